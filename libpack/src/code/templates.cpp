#include "smpack/templates.h"

#include <nlohmann/json.hpp>
#include <system_error>

#include "code/embedded_templates.h"
#include "io/file_io.h"
#include "util/json_text.h"

namespace smpack {
namespace {

struct TemplateInfo {
  std::string_view name;
  Profile profile;
  std::string_view variant;
  std::string_view summary;
};

// What the folder names under templates/ mean. A profile's first entry is its default.
constexpr TemplateInfo kTemplateInfo[] = {
    {"pytorch-torchscript", Profile::pytorch, "torchscript",
     "PyTorch container; model.pt saved with torch.jit.save"},
    {"pytorch-state-dict", Profile::pytorch, "state-dict",
     "PyTorch container; model.pth holding a state dict, loaded into your nn.Module"},
    {"huggingface", Profile::huggingface, "",
     "Hugging Face container; a transformers pipeline over save_pretrained files"},
    {"tensorflow", Profile::tensorflow, "",
     "TF Serving container; input_handler/output_handler around a SavedModel in 1/"},
    {"sklearn", Profile::sklearn, "", "scikit-learn container; model.joblib"},
    {"xgboost", Profile::xgboost, "", "XGBoost container; xgboost-model"},
};

std::vector<CodeTemplate> assemble_templates() {
  std::vector<CodeTemplate> templates;
  for (const auto& info : kTemplateInfo) {
    CodeTemplate code_template{info.name, info.profile, info.variant, info.summary, {}};
    for (const auto& file : embedded_template_files()) {
      const auto slash = file.path.find('/');
      if (slash == std::string_view::npos || file.path.substr(0, slash) != info.name) continue;
      code_template.files.push_back({file.path.substr(slash + 1), file.content});
    }
    templates.push_back(std::move(code_template));
  }
  return templates;
}

std::string describe_choices(Profile profile) {
  std::string choices;
  for (const auto& code_template : code_templates()) {
    if (code_template.profile != profile) continue;
    if (!choices.empty()) choices += ", ";
    choices += code_template.variant;
  }
  return choices;
}

std::string profiles_with_templates() {
  std::string names;
  for (const auto& code_template : code_templates()) {
    const std::string_view name = name_of(code_template.profile);
    if (names.find(name) != std::string::npos) continue;
    if (!names.empty()) names += ", ";
    names += name;
  }
  return names;
}

}  // namespace

const std::vector<CodeTemplate>& code_templates() {
  static const std::vector<CodeTemplate> templates = assemble_templates();
  return templates;
}

Result<const CodeTemplate*> find_code_template(Profile profile, std::string_view variant) {
  bool profile_known = false;
  for (const auto& code_template : code_templates()) {
    if (code_template.profile != profile) continue;
    profile_known = true;
    if (variant.empty() || code_template.variant == variant) return &code_template;
  }
  if (!profile_known) {
    return Error::usage("no template for profile '" + std::string(name_of(profile)) +
                        "' (templates exist for " + profiles_with_templates() + ")");
  }
  const std::string choices = describe_choices(profile);
  return Error::usage(
      "no '" + std::string(variant) + "' template for profile '" + std::string(name_of(profile)) +
      "'" +
      (choices.empty() ? std::string(" (it has one template only)") : " (one of " + choices + ")"));
}

Result<std::vector<std::filesystem::path>> write_code_template(const CodeTemplate& code_template,
                                                               const std::filesystem::path& dir,
                                                               Overwrite overwrite) {
  std::vector<std::filesystem::path> targets;
  for (const auto& file : code_template.files) {
    auto target = dir / std::string(file.name);
    std::error_code error;
    if (overwrite == Overwrite::refuse && std::filesystem::exists(target, error)) {
      return Error::usage(target.string() + ": already exists").with_hint("force", "to replace it");
    }
    targets.push_back(std::move(target));
  }
  std::error_code error;
  std::filesystem::create_directories(dir, error);
  if (error) return Error::io(dir.string() + ": cannot create the folder: " + error.message());

  for (std::size_t i = 0; i < targets.size(); ++i) {
    auto output = AtomicOutputFile::create(targets[i]);
    if (!output) return std::move(output).error();
    const auto& content = code_template.files[i].content;
    if (auto written = output->write(std::as_bytes(std::span(content.data(), content.size())));
        !written) {
      return std::move(written).error();
    }
    if (auto committed = output->commit(); !committed) return std::move(committed).error();
  }
  return targets;
}

std::string init_json(const CodeTemplate& code_template,
                      const std::vector<std::filesystem::path>& written) {
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (const auto& path : written) files.push_back(path.string());
  nlohmann::ordered_json doc = {{"template", code_template.name}, {"files", files}};
  return json_text(doc);
}

}  // namespace smpack
