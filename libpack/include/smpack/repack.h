// When the SageMaker Python SDK repacks model.tar.gz on deploy, what that does to
// an archive, and the deploy calls that avoid it (sagemaker-contract.md, "The
// SDK's repack"). v2: src/sagemaker/model.py `_upload_code`, the `_is_mms_version` and
// network-isolation checks of pytorch/, mxnet/, huggingface/, tensorflow/, sklearn/ and
// xgboost/model.py, utils.py `repack_model`. v3: sagemaker-serve's model_builder.py
// `_build_for_passthrough`, `is_repack`, `_prepare_container_def(_base)`.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "smpack/lint.h"
#include "smpack/model_tree.h"
#include "smpack/result.h"
#include "smpack/sdk_version.h"

namespace smpack {

enum class FrameworkClass {
  pytorch,
  huggingface,
  tensorflow,
  mxnet,
  sklearn,
  xgboost,
  generic_model
};

// "pytorch", "model", ...; usage naming the known ones otherwise.
Result<FrameworkClass> parse_framework(std::string_view name);
std::string_view name_of(FrameworkClass framework);
std::string_view python_class_of(FrameworkClass framework);  // "PyTorchModel", ...
// The SDK class that deploys a model served by `profile`'s container.
FrameworkClass framework_for(Profile profile);

// How repack-check's flags map onto v3's ModelBuilder (docs/cli.md): the framework and
// its version name only the image (image_uris.retrieve); entry_point, source_dir and one
// dependency become SourceCode(entry_script=, source_dir=, requirements=); network
// isolation becomes Networking(enable_network_isolation=True).
struct RepackQuery {
  SdkVersion sdk = SdkVersion::v3;
  FrameworkClass framework = FrameworkClass::pytorch;
  std::string framework_version;  // "" = the SDK default
  std::string entry_point;        // "" = not given
  std::string source_dir;         // "" = not given
  std::vector<std::string> dependencies;
  bool network_isolation = false;
  bool uncompressed_model_data = false;  // ModelDataSource / S3 prefix
};

struct RepackPrediction {
  bool repacks = false;
  std::string rule;                  // which SDK condition fires (or why none does)
  std::vector<std::string> effects;  // what the repack does to this archive
  std::vector<std::string> avoid;    // how to deploy without it
};

// usage for a malformed framework_version. `archive` may be null (no effects listed).
Result<RepackPrediction> predict_repack(const RepackQuery& query, const ModelTree* archive);

// {"archive", "sdk", "framework_class", "repacks", "rule", "effects", "avoid"}: what
// `repack-check --json` prints.
std::string repack_json(const std::string& archive, const RepackQuery& query,
                        const RepackPrediction& prediction);

// The deploy call that needs no repack for an archive that already holds code/, for
// each framework class and SDK version (Python source that runs once its placeholders,
// upper-case names such as ROLE, INSTANCE_TYPE, FRAMEWORK_VERSION, are bound).
// `model_data` is the Python expression of the model data: a quoted s3:// URL, or the
// ModelDataSource dict of an uncompressed layout (v3 takes that through sagemaker-core's
// Model.create, since ModelBuilder passes its model_path as one ModelDataUrl).
//
// CreateModel's ModelDataSource for an s3:// URI: a prefix (ending in '/') is
// {"S3DataSource": {"S3Uri", "S3DataType": "S3Prefix", "CompressionType": "None"}}, an
// archive object "S3Object" and "Gzip", with "ETag" when one is given (the version that
// was read or written). Spaced as Python writes a dict, so that it reads as JSON and as
// a model_data argument.
std::string model_data_source(std::string_view s3_uri, std::string_view etag = {});
inline constexpr std::string_view kPlaceholderModelData = "\"s3://BUCKET/model.tar.gz\"";
// The container's environment in the call, in order (values are quoted as Python strings).
using DeployEnvironment = std::vector<std::pair<std::string, std::string>>;
// {"SAGEMAKER_PROGRAM": program}: what the toolkits import from code/.
DeployEnvironment program_environment(const std::string& program = "inference.py");
std::string no_repack_deploy_call(SdkVersion sdk, FrameworkClass framework,
                                  const DeployEnvironment& env = program_environment(),
                                  std::string_view model_data = kPlaceholderModelData);

}  // namespace smpack
