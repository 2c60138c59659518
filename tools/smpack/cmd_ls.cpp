#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/artifact.h"

namespace smpack::cli {
namespace {

struct LsArgs {
  std::string archive;
  bool long_format = false;
  FormatFlag format;
};

Result<int> run_ls(const LsArgs& args, Context& context) {
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  VisitOptions options;
  options.keep_content = nullptr;
  options.cancel = &context.cancel;
  auto tree = artifact->visit(options);
  if (!tree) return std::move(tree).error();
  if (args.format.json()) {
    std::cout << members_json(tree->members);
    return kExitOk;
  }
  for (const auto& m : tree->members) {
    // The normalised path, unless the stored one says something it hides ("/etc/x", "../x").
    std::string name =
        escape_for_terminal(m.path_problem == PathProblem::none ? m.path : m.stored_path);
    if (args.long_format) {
      std::printf("%-9s %s %12llu  %s", std::string(name_of(m.type)).c_str(),
                  octal_mode(m.mode).c_str(), static_cast<unsigned long long>(m.size),
                  name.c_str());
      if (!m.link_target.empty()) std::printf(" -> %s", escape_for_terminal(m.link_target).c_str());
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
  cmd->callback([args, &context] { context.finish(run_ls(*args, context)); });
}

}  // namespace smpack::cli
