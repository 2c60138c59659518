#include "smpack/repack.h"

#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "smpack/archive_writer.h"
#include "smpack/human_bytes.h"
#include "util/json_text.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

// A Python string literal (JSON's escapes are Python's; names from an archive may hold
// anything, invalid UTF-8 included).
std::string python_string(const std::string& text) {
  return nlohmann::json(text).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

struct FrameworkFacts {
  FrameworkClass framework;
  std::string_view name;
  std::string_view python_class;
  std::string_view module;
};

constexpr FrameworkFacts kFrameworks[] = {
    {FrameworkClass::pytorch, "pytorch", "PyTorchModel", "sagemaker.pytorch"},
    {FrameworkClass::huggingface, "huggingface", "HuggingFaceModel", "sagemaker.huggingface"},
    {FrameworkClass::tensorflow, "tensorflow", "TensorFlowModel", "sagemaker.tensorflow"},
    {FrameworkClass::mxnet, "mxnet", "MXNetModel", "sagemaker.mxnet"},
    {FrameworkClass::sklearn, "sklearn", "SKLearnModel", "sagemaker.sklearn"},
    {FrameworkClass::xgboost, "xgboost", "XGBoostModel", "sagemaker.xgboost"},
    {FrameworkClass::generic_model, "model", "Model", "sagemaker.model"},
};

const FrameworkFacts& facts(FrameworkClass framework) {
  for (const auto& f : kFrameworks) {
    if (f.framework == framework) return f;
  }
  return kFrameworks[0];
}

// "1.13.1" -> {1, 13, 1}; empty for "" (the class's own default, see default_version).
// A container build suffix ("1.2-1", the scikit-learn and XGBoost images) is not compared.
Result<std::vector<int>> parse_version(const std::string& full_text) {
  std::string text = full_text;
  if (const auto dash = text.find('-');
      dash != std::string::npos && dash + 1 < text.size() &&
      text.find_first_not_of("0123456789", dash + 1) == std::string::npos) {
    text.resize(dash);
  }
  std::vector<int> parts;
  std::size_t at = 0;
  while (at < text.size()) {
    std::size_t end = text.find('.', at);
    std::string part = text.substr(at, end == std::string::npos ? std::string::npos : end - at);
    if (part.empty() || part.find_first_not_of("0123456789") != std::string::npos ||
        part.size() > 6) {
      return Error::usage("framework version '" + full_text +
                          "' is not a version like 2.1, 1.13.1 or 1.2-1");
    }
    parts.push_back(std::stoi(part));
    if (end == std::string::npos) break;
    at = end + 1;
  }
  return parts;
}

bool at_least(const std::vector<int>& version, std::vector<int> minimum) {
  return version >= minimum;
}

// The framework_version a model class uses when none is given (SDK v2: PyTorchModel
// framework_version="1.3", MXNetModel _LOWEST_MMS_VERSION = "1.4").
std::string default_version(FrameworkClass framework) {
  switch (framework) {
    case FrameworkClass::pytorch:
      return "1.3";
    case FrameworkClass::mxnet:
      return "1.4";
    default:
      return "";
  }
}

}  // namespace

Result<FrameworkClass> parse_framework(std::string_view name) {
  std::string known;
  for (const auto& f : kFrameworks) {
    if (f.name == name) return f.framework;
    known += (known.empty() ? "" : ", ") + std::string(f.name);
  }
  return Error::usage("framework '" + std::string(name) + "' is not one of " + known);
}

std::string_view name_of(FrameworkClass framework) {
  return facts(framework).name;
}
std::string_view python_class_of(FrameworkClass framework) {
  return facts(framework).python_class;
}

std::string model_data_source(std::string_view s3_uri, std::string_view etag) {
  const bool prefix = s3_uri.ends_with('/');
  std::string fields = "\"S3Uri\": " + python_string(std::string(s3_uri)) +
                       (prefix ? ", \"S3DataType\": \"S3Prefix\", \"CompressionType\": \"None\""
                               : ", \"S3DataType\": \"S3Object\", \"CompressionType\": \"Gzip\"");
  if (!etag.empty()) fields += ", \"ETag\": " + python_string(std::string(etag));
  return "{\"S3DataSource\": {" + fields + "}}";
}

DeployEnvironment program_environment(const std::string& program) {
  return {{"SAGEMAKER_PROGRAM", program}};
}

namespace {

// The env argument of a no-repack call. TF Serving ignores SAGEMAKER_PROGRAM (it imports
// code/inference.py by that name), so it is left out there.
std::string program_env(FrameworkClass framework, const DeployEnvironment& env) {
  std::string fields;
  for (const auto& [key, value] : env) {
    if (framework == FrameworkClass::tensorflow && key == "SAGEMAKER_PROGRAM") continue;
    fields += (fields.empty() ? "" : ", ") + python_string(key) + ": " + python_string(value);
  }
  return "{" + fields + "}";
}

// The framework-version arguments, as v2's model classes name them and as v3's
// image_uris.retrieve does: {v2 argument, v3 argument, placeholder}.
struct VersionArgument {
  std::string_view v2, v3, placeholder;
  std::string_view v3_prefix = {};  // v3 passes "pytorch" + the version
};
std::vector<VersionArgument> version_arguments(FrameworkClass framework) {
  switch (framework) {
    case FrameworkClass::huggingface:
      return {{"transformers_version", "version", "TRANSFORMERS_VERSION"},
              {"pytorch_version", "base_framework_version", "PYTORCH_VERSION", "pytorch"},
              {"py_version", "py_version", "PY_VERSION"}};
    case FrameworkClass::tensorflow:
    case FrameworkClass::xgboost:
      return {{"framework_version", "version", "FRAMEWORK_VERSION"}};
    case FrameworkClass::generic_model:
      return {};
    default:
      return {{"framework_version", "version", "FRAMEWORK_VERSION"},
              {"py_version", "py_version", "PY_VERSION"}};
  }
}

std::string version_argument_list(FrameworkClass framework, SdkVersion sdk) {
  std::string list;
  for (const auto& argument : version_arguments(framework)) {
    std::string value(argument.placeholder);
    if (sdk == SdkVersion::v3 && !argument.v3_prefix.empty())
      value = "\"" + std::string(argument.v3_prefix) + "\" + " + value;
    list += (list.empty() ? "" : ", ") +
            std::string(sdk == SdkVersion::v2 ? argument.v2 : argument.v3) + "=" + value;
  }
  return list;
}

// The comment that ends the line creating the model.
std::string no_repack_note(FrameworkClass framework, std::string_view what) {
  return "  # " + std::string(what) + ": nothing to repack" +
         (framework == FrameworkClass::tensorflow ? "; TF Serving runs code/inference.py" : "") +
         "\n";
}

std::string v2_deploy_call(FrameworkClass framework, const DeployEnvironment& environment,
                           const std::string& data) {
  const auto& f = facts(framework);
  const std::string env = "env=" + program_env(framework, environment);
  if (framework == FrameworkClass::generic_model) {
    return "from sagemaker.model import Model\n"
           "model = Model(image_uri=IMAGE_URI, model_data=" +
           data + ", role=ROLE,\n              " + env + ")" +
           no_repack_note(framework, "no entry_point, no source_dir") +
           "model.deploy(initial_instance_count=1, instance_type=INSTANCE_TYPE)";
  }
  const std::string versions = version_argument_list(framework, SdkVersion::v2);
  return "from " + std::string(f.module) + " import " + std::string(f.python_class) + "\n" +
         "model = " + std::string(f.python_class) + "(model_data=" + data + ", role=ROLE,\n    " +
         versions + ",\n    " + env + ")" +
         no_repack_note(framework, "no entry_point, no source_dir") +
         "model.deploy(initial_instance_count=1, instance_type=INSTANCE_TYPE)";
}

// v3 has no framework classes: the framework is the image, found as the v2 classes find it.
std::string v3_image_lookup(FrameworkClass framework) {
  if (framework == FrameworkClass::generic_model) return "";
  const std::string versions = version_argument_list(framework, SdkVersion::v3);
  return "from sagemaker.core import image_uris\n"
         "IMAGE_URI = image_uris.retrieve(\"" +
         std::string(facts(framework).name) + "\", region=REGION, " + versions +
         ",\n    instance_type=INSTANCE_TYPE, image_scope=\"inference\")\n";
}

// sagemaker-core's spelling of a ModelDataSource dict (its shapes are snake_case).
std::string snake_case_model_data_source(const nlohmann::json& source) {
  static constexpr std::pair<std::string_view, std::string_view> kFields[] = {
      {"S3Uri", "s3_uri"},
      {"S3DataType", "s3_data_type"},
      {"CompressionType", "compression_type"},
      {"ETag", "e_tag"}};
  std::string fields;
  const auto& s3 = source.at("S3DataSource");
  for (const auto& [from, to] : kFields) {
    if (!s3.contains(from)) continue;
    fields += (fields.empty() ? "" : ", ") + nlohmann::json(std::string(to)).dump() + ": " +
              s3.at(std::string(from)).dump();
  }
  return "{\"s3_data_source\": {" + fields + "}}";
}

std::string v3_deploy_call(FrameworkClass framework, const DeployEnvironment& environment,
                           const std::string& data) {
  const std::string image = v3_image_lookup(framework);
  const std::string env = program_env(framework, environment);
  const auto source = nlohmann::json::parse(data, nullptr, false);
  if (source.is_object() && source.contains("S3DataSource")) {
    return image +
           "from sagemaker.core.resources import Endpoint, EndpointConfig, Model\n"
           "from sagemaker.core.shapes import ContainerDefinition, ProductionVariant\n"
           "# ModelBuilder passes model_path on as one ModelDataUrl (a tar.gz); an uncompressed\n"
           "# prefix needs CreateModel's ModelDataSource, which sagemaker-core takes as it is.\n"
           "Model.create(model_name=MODEL_NAME, execution_role_arn=ROLE,\n"
           "    primary_container=ContainerDefinition(image=IMAGE_URI,\n"
           "        model_data_source=" +
           snake_case_model_data_source(source) + ",\n        environment=" + env +
           "))\n"
           "EndpointConfig.create(endpoint_config_name=MODEL_NAME, production_variants=[\n"
           "    ProductionVariant(variant_name=\"AllTraffic\", model_name=MODEL_NAME,\n"
           "                      initial_instance_count=1, instance_type=INSTANCE_TYPE)])\n"
           "Endpoint.create(endpoint_name=MODEL_NAME, endpoint_config_name=MODEL_NAME)";
  }
  return image +
         "from sagemaker.serve.model_builder import ModelBuilder\n"
         "builder = ModelBuilder(model_path=" +
         data +
         ", image_uri=IMAGE_URI, role_arn=ROLE,\n"
         "    instance_type=INSTANCE_TYPE, env_vars=" +
         env + ")" + no_repack_note(framework, "no source_code") +
         "builder.build()\n"
         "builder.deploy(initial_instance_count=1, instance_type=INSTANCE_TYPE)";
}

}  // namespace

std::string no_repack_deploy_call(SdkVersion sdk, FrameworkClass framework,
                                  const DeployEnvironment& env, std::string_view model_data) {
  const std::string data(model_data);
  return sdk == SdkVersion::v2 ? v2_deploy_call(framework, env, data)
                               : v3_deploy_call(framework, env, data);
}

namespace {

// SDK v2: each framework class's own condition (see the header).
Result<RepackPrediction> decide_v2(const RepackQuery& query) {
  const bool defaulted = query.framework_version.empty();
  const std::string version_text =
      defaulted ? default_version(query.framework) : query.framework_version;
  auto version = parse_version(version_text);
  if (!version) return std::move(version).error();
  const std::string version_said =
      "framework_version " + version_text + (defaulted ? " (the class's default)" : "");
  RepackPrediction p;
  const std::string cls(python_class_of(query.framework));
  const bool entry = !query.entry_point.empty();
  if (query.uncompressed_model_data) {
    p.rule = "model_data is an uncompressed S3 prefix (ModelDataSource): the SDK never repacks it";
  } else if (query.framework == FrameworkClass::generic_model) {
    p.repacks = entry && !query.source_dir.empty();
    p.rule = p.repacks ? "Model with both source_dir and entry_point repacks model_data"
                       : "Model repacks only with both source_dir and entry_point";
  } else if (!entry) {
    p.rule = cls + " without entry_point does not repack";
  } else {
    switch (query.framework) {
      case FrameworkClass::pytorch:
        p.repacks = at_least(*version, {1, 2});
        p.rule = p.repacks ? "PyTorchModel with " + version_said +
                                 " >= 1.2 and an entry_point repacks model_data"
                           : "PyTorchModel with " + version_said +
                                 " < 1.2 uploads the code separately (no repack)";
        break;
      case FrameworkClass::mxnet:
        p.repacks = at_least(*version, {1, 4});
        p.rule = p.repacks ? "MXNetModel with " + version_said +
                                 " >= 1.4 and an entry_point repacks model_data"
                           : "MXNetModel with " + version_said +
                                 " < 1.4 uploads the code separately (no repack)";
        break;
      case FrameworkClass::huggingface:
      case FrameworkClass::tensorflow:
        p.repacks = true;
        p.rule = cls + " with an entry_point always repacks model_data";
        break;
      case FrameworkClass::sklearn:
      case FrameworkClass::xgboost:
        p.repacks = query.network_isolation;
        p.rule =
            p.repacks
                ? cls + " with an entry_point under network isolation repacks model_data"
                : cls + " uploads the code separately unless network isolation is on (no repack)";
        break;
      case FrameworkClass::generic_model:
        break;
    }
  }
  return p;
}

// SDK v3: ModelBuilder with an image and an S3 model_path takes `_build_for_passthrough`,
// which repacks when source_code has both an entry_script and a source_dir, whatever
// the image, framework version or network isolation (is_repack; the framework-specific
// checks of _prepare_container_def are not reached without a framework, and
// passthrough has none).
Result<RepackPrediction> decide_v3(const RepackQuery& query) {
  // The version names only the image (v3 never compares it), but one that is no version
  // would fail image_uris.retrieve at deploy: refuse it here too.
  if (auto version = parse_version(query.framework_version); !version)
    return std::move(version).error();
  if (query.dependencies.size() > 1) {
    return Error::usage(
        "SDK v3's SourceCode takes one requirements file; --dependencies was "
        "given " +
        std::to_string(query.dependencies.size()) + " times");
  }
  RepackPrediction p;
  const bool entry = !query.entry_point.empty();
  const bool source = !query.source_dir.empty();
  p.repacks = entry && source;
  if (p.repacks) {
    p.rule =
        "ModelBuilder with SourceCode(entry_script=..., source_dir=...) repacks model_path, "
        "whatever the image";
    if (query.uncompressed_model_data) {
      p.effects.push_back(
          "repack_model reads model_path as one tar.gz object, which an S3 prefix is not: the "
          "build fails before anything is deployed");
    }
  } else if (entry) {
    p.rule = "ModelBuilder drops a SourceCode with an entry_script but no source_dir (no repack)";
    p.effects.push_back("deploys no code of its own: " + query.entry_point +
                        " is not added, and SAGEMAKER_PROGRAM is not set");
  } else {
    p.rule = source || !query.dependencies.empty()
                 ? "ModelBuilder drops a SourceCode without an entry_script (no repack)"
                 : "ModelBuilder without source_code does not repack";
  }
  return p;
}

}  // namespace

Result<RepackPrediction> predict_repack(const RepackQuery& query, const ModelTree* archive) {
  auto decided = query.sdk == SdkVersion::v2 ? decide_v2(query) : decide_v3(query);
  if (!decided) return std::move(decided).error();
  RepackPrediction p = std::move(*decided);
  if (!p.repacks) return p;
  const std::string program =
      fs::path(query.entry_point.empty() ? "inference.py" : query.entry_point).filename().string();
  // v3 on a prefix fails in repack_model (decide_v3 says so): there is nothing to repack.
  if (query.sdk == SdkVersion::v3 && query.uncompressed_model_data) {
    p.avoid.push_back(
        "put the code under the prefix once: `smpack build MODEL_DIR --code DIR -o "
        "s3://BUCKET/PREFIX/ --layout prefix`, then create the model without source_code:\n" +
        no_repack_deploy_call(query.sdk, query.framework, program_environment(program),
                              model_data_source("s3://BUCKET/PREFIX/")));
    return p;
  }

  std::uint64_t bytes = 0;
  std::set<std::string> old_code;
  if (archive) {
    for (const auto& m : archive->members) {
      bytes += m.size;
      if (m.type == EntryType::file && is_code_path(m.path) && m.path != "code")
        old_code.insert(m.path);
    }
  }
  p.effects.push_back(
      "downloads the whole archive, extracts it to local disk (/tmp by default" +
      (archive ? ", about " + human_bytes(2 * bytes) + " at peak" : std::string()) +
      "), re-gzips everything at level 9 on one thread and uploads it again, on every deploy");
  if (!query.source_dir.empty()) {
    std::string lost;
    std::error_code ec;
    if (fs::is_directory(query.source_dir, ec)) {
      for (const auto& path : old_code) {
        if (!fs::exists(fs::path(query.source_dir) / fs::path(path).lexically_relative("code"),
                        ec)) {
          p.effects.push_back("deletes " + path + " (replaced wholesale by source_dir " +
                              query.source_dir + ")");
        }
      }
    } else if (!old_code.empty()) {
      p.effects.push_back("replaces code/ wholesale with source_dir: the " +
                          std::to_string(old_code.size()) +
                          " file(s) now in code/ are lost unless source_dir has them");
    }
  } else {
    p.effects.push_back("copies " + query.entry_point + " into code/");
  }
  for (const auto& dependency : query.dependencies) {
    std::string base = fs::path(dependency).filename().string();
    p.effects.push_back("copies " + dependency + " into code/lib/" + base);
    std::error_code ec;
    if (base == "requirements.txt" || fs::exists(fs::path(dependency) / "requirements.txt", ec)) {
      p.effects.push_back("code/lib/" + base +
                          (base == "requirements.txt" ? "" : "/requirements.txt") +
                          " is never installed: only code/requirements.txt is");
    }
  }
  if (query.sdk == SdkVersion::v2 && query.framework == FrameworkClass::tensorflow) {
    // TensorFlowModel.prepare_container_def passes self.env through unchanged; the TF
    // Serving container imports code/inference.py by that name.
    p.effects.push_back(
        "sets neither SAGEMAKER_PROGRAM nor SAGEMAKER_SUBMIT_DIRECTORY (TensorFlowModel "
        "passes env through): TF Serving runs code/inference.py by that name, so an entry_point "
        "named otherwise is never imported");
  } else {
    p.effects.push_back(
        "sets SAGEMAKER_PROGRAM=" + fs::path(query.entry_point).filename().string() +
        " and SAGEMAKER_SUBMIT_DIRECTORY=/opt/ml/model/code");
  }
  p.avoid.push_back("put the code into the archive once: `smpack build MODEL_DIR --code " +
                    (query.source_dir.empty() ? std::string("DIR") : query.source_dir) +
                    " -o model.tar.gz` at training time, or `smpack add-code model.tar.gz --code "
                    "DIR --in-place`");
  p.avoid.push_back(
      std::string(query.sdk == SdkVersion::v2 ? "then deploy without entry_point and source_dir:\n"
                                              : "then deploy without source_code:\n") +
      no_repack_deploy_call(query.sdk, query.framework, program_environment(program),
                            query.uncompressed_model_data ? model_data_source("s3://BUCKET/PREFIX/")
                                                          : std::string(kPlaceholderModelData)));
  return p;
}

FrameworkClass framework_for(Profile profile) {
  switch (profile) {
    case Profile::pytorch:
      return FrameworkClass::pytorch;
    case Profile::huggingface:
      return FrameworkClass::huggingface;
    case Profile::tensorflow:
      return FrameworkClass::tensorflow;
    case Profile::sklearn:
      return FrameworkClass::sklearn;
    case Profile::xgboost:
      return FrameworkClass::xgboost;
    case Profile::djl_lmi:  // deployed as a Model of the server's own image
    case Profile::tgi:
    case Profile::tei:
    case Profile::generic:
      break;
  }
  return FrameworkClass::generic_model;
}

std::string repack_json(const std::string& archive, const RepackQuery& query,
                        const RepackPrediction& prediction) {
  nlohmann::ordered_json doc = {{"archive", archive},
                                {"sdk", name_of(query.sdk)},
                                {"framework_class", python_class_of(query.framework)},
                                {"repacks", prediction.repacks},
                                {"rule", prediction.rule},
                                {"effects", prediction.effects},
                                {"avoid", prediction.avoid}};
  return json_text(doc);
}

}  // namespace smpack
