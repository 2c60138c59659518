#include "smpack/deploy_call.h"

#include <nlohmann/json.hpp>

#include "smpack/repack.h"

namespace smpack {
namespace {

// The SAGEMAKER_PROGRAM that imports `module`: "code/inference.py" -> "inference.py",
// "code/pkg/__init__.py" -> "pkg"; the toolkits' default when there is none.
std::string program_of(const std::string& module) {
  std::string program = module.substr(std::min<std::size_t>(module.size(), 5));
  if (const auto init = program.find("/__init__.py"); init != std::string::npos)
    program.resize(init);
  return program.empty() ? "inference.py" : program;
}

}  // namespace

std::string model_data_source_of(const Artifact& artifact) {
  if (artifact.kind() == ArtifactKind::s3_prefix) return model_data_source(artifact.name());
  const auto objects = artifact.s3_objects();
  if (objects.empty()) return "";
  return model_data_source(artifact.name(), objects.front().etag);
}

std::string deploy_call_for(const Artifact& artifact, const LintReport& report, SdkVersion sdk,
                            bool as_prefix) {
  std::string model_data(kPlaceholderModelData);
  if (artifact.kind() == ArtifactKind::s3_prefix) {
    model_data = model_data_source_of(artifact);
  } else if (!artifact.s3_objects().empty()) {
    model_data = nlohmann::json(artifact.name())
                     .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  } else if (as_prefix) {
    model_data = model_data_source("s3://BUCKET/PREFIX/");
  }
  DeployEnvironment env;
  switch (report.profile) {
    case Profile::tgi:
    case Profile::tei:
      env = {{"HF_MODEL_ID", "/opt/ml/model"}};
      break;
    case Profile::djl_lmi:
      break;  // serving.properties (or OPTION_* settings) says the rest
    default:
      env = program_environment(program_of(report.handler_module));
  }
  return no_repack_deploy_call(sdk, framework_for(report.profile), env, model_data);
}

}  // namespace smpack
