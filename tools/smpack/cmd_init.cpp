#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/templates.h"

namespace smpack::cli {
namespace {

struct InitArgs {
  std::string dir;
  std::string profile;
  std::string variant;
  bool force = false;
  bool list = false;
  FormatFlag format;
};

Result<int> list_templates(const InitArgs& args) {
  if (args.format.json()) {
    nlohmann::ordered_json templates = nlohmann::ordered_json::array();
    for (const auto& code_template : code_templates()) {
      nlohmann::ordered_json files = nlohmann::ordered_json::array();
      for (const auto& file : code_template.files) files.push_back(file.name);
      templates.push_back({{"name", code_template.name},
                           {"profile", name_of(code_template.profile)},
                           {"variant", code_template.variant},
                           {"summary", code_template.summary},
                           {"files", files}});
    }
    print_json({{"templates", templates}});
    return kExitOk;
  }
  for (const auto& code_template : code_templates()) {
    std::string choice = "--profile " + std::string(name_of(code_template.profile));
    if (!code_template.variant.empty()) {
      choice += " --variant " + std::string(code_template.variant);
    }
    std::cout << choice << std::string(choice.size() < 40 ? 40 - choice.size() : 1, ' ')
              << code_template.summary << "\n";
  }
  return kExitOk;
}

Result<int> run_init(const InitArgs& args, Context& context) {
  if (args.list) return list_templates(args);
  if (args.profile.empty()) return Error::usage("init: --profile is required (see --list)");
  if (args.dir.empty()) return Error::usage("init: give the folder to write the code into");
  auto profile = parse_profile(args.profile);
  if (!profile) return Error::usage("--profile: unknown profile '" + args.profile + "'");
  auto code_template = find_code_template(*profile, args.variant);
  if (!code_template) return std::move(code_template).error();

  auto written = write_code_template(**code_template, args.dir,
                                     args.force ? Overwrite::replace : Overwrite::refuse);
  if (!written) return std::move(written).error();
  if (args.format.json()) {
    std::cout << init_json(**code_template, *written);
  } else {
    for (const auto& path : *written) std::cout << escape_for_terminal(path.string()) << "\n";
  }
  print_note(context,
             "next: put the model files in a folder MODEL_DIR, then run\n  smpack build "
             "MODEL_DIR --code " +
                 escape_for_terminal(args.dir) + " -o model.tar.gz");
  return kExitOk;
}

}  // namespace

void add_init_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<InitArgs>();
  auto* cmd = app.add_subcommand(
      "init", "Write a lint-clean inference.py and requirements.txt for a serving container");
  cmd->add_option("DIR", args->dir, "Folder to write into (created if missing); later --code DIR");
  cmd->add_option("--profile", args->profile,
                  "Serving container: pytorch, huggingface, tensorflow, sklearn, xgboost");
  cmd->add_option("--variant", args->variant,
                  "pytorch: torchscript (model.pt, the default) or state-dict (model.pth)");
  cmd->add_flag("--force", args->force, "Replace files that already exist");
  cmd->add_flag("--list", args->list, "List the templates and exit");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_init(*args, context)); });
}

}  // namespace smpack::cli
