#include <iostream>

#include "code_options.h"
#include "commands.h"
#include "lint_gate.h"
#include "output.h"
#include "sign_flag.h"
#include "smpack/stage.h"

namespace smpack::cli {
namespace {

struct StageArgs {
  std::string model_dir;
  CodeOptions code;
  bool force = false;
  bool no_lint = false;
  SignFlag sign;
  SdkFlag sdk;
  FormatFlag format;
};

Result<int> run_stage(const StageArgs& args, Context& context) {
  StageOptions options;
  options.existing = args.force ? ExistingCode::replace : ExistingCode::refuse_if_different;
  options.lint = !args.no_lint;
  options.sdk = args.sdk.value();
  auto key = args.sign.load();
  if (!key) return std::move(key).error();
  auto staged = stage_code(args.model_dir, args.code.spec(args.model_dir), options);
  if (!staged) return std::move(staged).error();
  if (staged->refused) return report_gate_refusal(*staged->refused, context);
  if (*key) {
    // Beside the directory, not in it: SageMaker would upload it as part of the model.
    auto signature = sign_beside(context, args.model_dir, **key);
    if (!signature) return std::move(signature).error();
    if (!args.format.json()) std::cout << "signed " << escape_for_terminal(*signature) << "\n";
  }
  if (args.format.json()) {
    std::cout << stage_json(args.model_dir, *staged);
    return kExitOk;
  }
  if (staged->unchanged) {
    std::cout << escape_for_terminal(args.model_dir) << "/code already holds this code\n";
  } else {
    std::cout << "staged " << staged->written.size() << " file(s) into "
              << escape_for_terminal(args.model_dir) << "/code\n";
    for (const auto& path : staged->removed)
      std::cout << "removed " << escape_for_terminal(path) << "\n";
    if (!staged->kept.empty()) {
      std::cout << "kept " << staged->kept.size()
                << " file(s) of code/: an entry point or requirements file alone is added to "
                   "code/, as the SDK's entry_point-only repack does (--code replaces it)\n";
    }
  }
  if (!context.quiet) {
    std::cout << "\nDeploy without a repack (SDK " << name_of(args.sdk.value()) << "), e.g.:\n"
              << staged->deploy_call << "\n";
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
  args->sign.add_to(*cmd, "the model directory (MODEL_DIR.sig, beside it, not in it)");
  add_sdk_flag(*cmd, args->sdk);
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_stage(*args, context)); });
}

}  // namespace smpack::cli
