#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/model_tree.h"

namespace smpack::cli {
namespace {

struct LsArgs {
  std::string archive;
  bool long_format = false;
  FormatFlag format;
};

Result<int> run_ls(const LsArgs& args) {
  TreeLoadOptions options;
  options.keep_content = [](std::string_view, std::uint64_t) { return false; };
  auto tree = load_model_tree(args.archive, options);
  if (!tree) return std::move(tree).error();
  if (args.format.json()) {
    nlohmann::ordered_json list = nlohmann::ordered_json::array();
    for (const auto& m : tree->members) {
      nlohmann::ordered_json item = {{"path", m.path},
                                     {"stored_path", m.stored_path},
                                     {"type", name_of(m.type)},
                                     {"mode", octal_mode(m.mode)},
                                     {"size", m.size}};
      if (!m.link_target.empty()) item["link_target"] = m.link_target;
      if (!m.sha256.empty()) item["sha256"] = m.sha256;
      list.push_back(std::move(item));
    }
    print_json(list);
    return kExitOk;
  }
  for (const auto& m : tree->members) {
    // The normalised path, unless the stored one says something it hides ("/etc/x", "../x").
    std::string name = escape_name(m.path_problem == PathProblem::none ? m.path : m.stored_path);
    if (args.long_format) {
      std::printf("%-9s %s %12llu  %s", std::string(name_of(m.type)).c_str(),
                  octal_mode(m.mode).c_str(), static_cast<unsigned long long>(m.size),
                  name.c_str());
      if (!m.link_target.empty()) std::printf(" -> %s", escape_name(m.link_target).c_str());
      std::printf("\n");
    } else {
      std::printf("%s\n", name.c_str());
    }
  }
  return kExitOk;
}

}  // namespace

void add_ls_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<LsArgs>();
  auto* cmd = app.add_subcommand("ls", "List the members of an archive (or a model directory)");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz or directory")->required();
  cmd->add_flag("-l,--long", args->long_format, "Show type, mode and size");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_ls(*args)); });
}

}  // namespace smpack::cli
