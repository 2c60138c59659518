#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/artifact.h"
#include "smpack/repack.h"

namespace smpack::cli {
namespace {

struct RepackCheckArgs {
  std::string archive;
  std::string framework = "pytorch";
  std::string framework_version;
  std::string entry_point, source_dir;
  std::vector<std::string> dependencies;
  bool network_isolation = false;
  SdkFlag sdk;
  FormatFlag format;
};

Result<int> run_repack_check(const RepackCheckArgs& args, Context& context) {
  RepackQuery query;
  query.sdk = args.sdk.value();
  auto framework = parse_framework(args.framework);
  if (!framework) return std::move(framework).error().with_context("--framework");
  query.framework = *framework;
  query.framework_version = args.framework_version;
  query.entry_point = args.entry_point;
  query.source_dir = args.source_dir;
  query.dependencies = args.dependencies;
  query.network_isolation = args.network_isolation;
  // A malformed version is a usage error before any I/O.
  if (auto valid = predict_repack(query, nullptr); !valid) return std::move(valid).error();
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  VisitOptions options;
  options.keep_content = nullptr;
  auto tree = artifact->visit(options);
  if (!tree) return std::move(tree).error();
  query.uncompressed_model_data = artifact->kind() == ArtifactKind::s3_prefix;
  auto prediction = predict_repack(query, &*tree);
  if (!prediction) return std::move(prediction).error();
  if (args.format.json()) {
    std::cout << repack_json(args.archive, query, *prediction);
  } else {
    std::cout << (prediction->repacks ? "REPACK: " : "no repack: ") << prediction->rule << "\n";
    for (const auto& e : prediction->effects) std::cout << "  - " << e << "\n";
    if (!prediction->avoid.empty()) std::cout << "To avoid it:\n";
    for (const auto& a : prediction->avoid) std::cout << "  " << a << "\n";
  }
  return prediction->repacks ? kExitFindings : kExitOk;
}

}  // namespace

void add_repack_check_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<RepackCheckArgs>();
  auto* cmd = app.add_subcommand(
      "repack-check",
      "Predict whether a SageMaker SDK deploy call would repack the archive (exit 1 if so)");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz")->required();
  cmd->add_option("--framework", args->framework,
                  "pytorch, huggingface, tensorflow, mxnet, sklearn, xgboost or model")
      ->capture_default_str();
  cmd->add_option("--framework-version", args->framework_version,
                  "The model class's framework_version (--sdk v2; default: the class's own, "
                  "e.g. PyTorchModel 1.3, MXNetModel 1.4), or the image's version (v3)");
  cmd->add_option("--entry-point", args->entry_point, "entry_point passed to the model class");
  cmd->add_option("--source-dir", args->source_dir, "source_dir passed to the model class");
  cmd->add_option("--dependencies", args->dependencies, "dependencies passed to the model class");
  cmd->add_flag("--network-isolation", args->network_isolation, "enable_network_isolation=True");
  add_sdk_flag(*cmd, args->sdk);
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_repack_check(*args, context)); });
}

}  // namespace smpack::cli
