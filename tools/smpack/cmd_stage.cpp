#include <iostream>

#include "code_options.h"
#include "commands.h"
#include "lint_gate.h"
#include "output.h"
#include "smpack/lint.h"
#include "smpack/repack.h"
#include "smpack/stage.h"

namespace smpack::cli {
namespace {

struct StageArgs {
  std::string model_dir;
  CodeOptions code;
  bool force = false;
  bool no_lint = false;
  FormatFlag format;
};

Result<int> run_stage(const StageArgs& args, Context& context) {
  const SourceSpec spec = args.code.spec(args.model_dir);
  if (!spec.has_code())
    return Error::usage("give the code to stage: --code DIR, --entry-point F or --requirements F");
  if (!args.no_lint) {
    auto tree = tree_with_code(args.model_dir, spec, lint_load_options(false));
    if (!tree) return std::move(tree).error();
    if (!passes_lint_gate(*tree, spec, context)) return kExitFindings;
  }
  auto staged = stage_code(args.model_dir, spec,
                           args.force ? ExistingCode::replace : ExistingCode::refuse_if_different);
  if (!staged) return std::move(staged).error();
  std::string program = spec.entry_point ? spec.entry_point->filename().string() : "inference.py";
  if (args.format.json()) {
    print_json({{"model_dir", args.model_dir},
                {"unchanged", staged->unchanged},
                {"written", staged->written},
                {"removed", staged->removed},
                {"deploy", no_repack_deploy_call(FrameworkClass::pytorch, program)}});
    return kExitOk;
  }
  if (staged->unchanged) {
    std::cout << escape_name(args.model_dir) << "/code already holds this code\n";
  } else {
    std::cout << "staged " << staged->written.size() << " file(s) into "
              << escape_name(args.model_dir) << "/code\n";
    for (const auto& path : staged->removed) std::cout << "removed " << escape_name(path) << "\n";
  }
  if (!context.quiet) {
    std::cout << "\nDeploy without a repack (no entry_point, no source_dir), e.g.:\n"
              << no_repack_deploy_call(FrameworkClass::pytorch, program) << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_stage_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<StageArgs>();
  auto* cmd =
      app.add_subcommand("stage", "Put code/ into a model directory (e.g. /opt/ml/model), checked");
  cmd->add_option("MODEL_DIR", args->model_dir, "Model directory")->required();
  args->code.add_to(*cmd);
  cmd->add_flag("--force", args->force, "Replace an existing, different code/");
  cmd->add_flag("--no-lint", args->no_lint, "Stage even when lint finds errors");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_stage(*args, context)); });
}

}  // namespace smpack::cli
