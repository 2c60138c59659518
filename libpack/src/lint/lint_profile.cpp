// Which container the model is meant for, from what it holds: files a container's default
// loader reads count more than what the code imports.
#include <algorithm>
#include <array>
#include <cctype>
#include <nlohmann/json.hpp>
#include <set>

#include "lint/lint_rules.h"

namespace smpack::lint_internal {
namespace {

constexpr std::size_t kMaxConfigBytes = 4u << 20;

struct Evidence {
  int score = 0;
  std::vector<std::string> reasons;
  void add(int weight, std::string reason) {
    score += weight;
    reasons.push_back(std::move(reason));
  }
};

constexpr int kFileWeight = 2;
constexpr int kImportWeight = 1;

// Top-level modules imported by `source`: "import a.b, c" and "from a import b" lines.
std::set<std::string> imported_modules(std::string_view source) {
  std::set<std::string> modules;
  auto take_name = [](std::string_view s) {
    std::size_t n = 0;
    while (n < s.size() && (std::isalnum(static_cast<unsigned char>(s[n])) || s[n] == '_')) ++n;
    return std::string(s.substr(0, n));
  };
  std::size_t start = 0;
  while (start < source.size()) {
    std::size_t end = source.find('\n', start);
    if (end == std::string_view::npos) end = source.size();
    std::string_view line = source.substr(start, end - start);
    start = end + 1;
    while (!line.empty() && (line.front() == ' ' || line.front() == '\t')) line.remove_prefix(1);
    for (std::string_view keyword : {"import ", "from "}) {
      if (!line.starts_with(keyword)) continue;
      std::string_view rest = line.substr(keyword.size());
      for (;;) {
        while (!rest.empty() && rest.front() == ' ') rest.remove_prefix(1);
        if (auto name = take_name(rest); !name.empty()) modules.insert(name);
        if (keyword == "from ") break;
        auto comma = rest.find(',');
        if (comma == std::string_view::npos) break;
        rest.remove_prefix(comma + 1);
      }
    }
  }
  return modules;
}

// Files that transformers' save_pretrained and the Hub put beside config.json: the
// tokenizer's and the safetensors or PyTorch weights and their shard indexes.
bool is_hugging_face_layout_file(std::string_view path) {
  for (std::string_view name :
       {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
        "generation_config.json", "model.safetensors", "model.safetensors.index.json",
        "pytorch_model.bin", "pytorch_model.bin.index.json"}) {
    if (path == name) return true;
  }
  // Shards: model-00001-of-00002.safetensors, pytorch_model-00001-of-00002.bin.
  return (path.starts_with("model-") && path.ends_with(".safetensors")) ||
         (path.starts_with("pytorch_model-") && path.ends_with(".bin"));
}

}  // namespace

std::optional<std::vector<std::string>> config_architectures(const ModelTree& tree) {
  const std::string* text = tree.content("config.json");
  if (!text || text->size() > kMaxConfigBytes) return std::nullopt;
  auto doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (!doc.is_object()) return std::nullopt;
  std::vector<std::string> architectures;
  if (auto it = doc.find("architectures"); it != doc.end() && it->is_array()) {
    for (const auto& item : *it) {
      if (item.is_string()) architectures.push_back(item.get<std::string>());
    }
  }
  return architectures;
}

// Settings that only one LLM server reads, from the endpoint's environment: LMI takes
// every serving.properties key as OPTION_<KEY>; TGI's launcher and TEI's router read
// their arguments from variables of these names.
constexpr std::array<std::string_view, 7> kTgiSettings = {
    "MAX_INPUT_TOKENS", "MAX_INPUT_LENGTH",       "MAX_TOTAL_TOKENS", "MAX_BATCH_PREFILL_TOKENS",
    "SM_NUM_GPUS",      "MAX_BATCH_TOTAL_TOKENS", "HF_MODEL_QUANTIZE"};
constexpr std::array<std::string_view, 5> kTeiSettings = {
    "MAX_CLIENT_BATCH_SIZE", "POOLING", "AUTO_TRUNCATE", "MAX_BATCH_TOKENS", "MAX_BATCH_REQUESTS"};

ProfileChoice detect_profile(const ModelTree& tree, const LintOptions& options) {
  Evidence djl, tgi, tei, tensorflow, huggingface, pytorch, xgboost, sklearn;
  constexpr int kServerWeight = kFileWeight * 2;
  if (const Member* properties = tree.find("serving.properties");
      properties && is_regular_file(*properties)) {
    djl.add(kServerWeight, "serving.properties at the root (DJL Serving's LMI)");
  }
  for (const auto& [key, value] : options.env) {
    if (key.starts_with("OPTION_")) djl.add(kServerWeight, key + " is set (an LMI setting)");
    if (std::find(kTgiSettings.begin(), kTgiSettings.end(), key) != kTgiSettings.end())
      tgi.add(kServerWeight, key + " is set (a text-generation-inference setting)");
    if (std::find(kTeiSettings.begin(), kTeiSettings.end(), key) != kTeiSettings.end())
      tei.add(kServerWeight, key + " is set (a text-embeddings-inference setting)");
  }

  std::vector<std::string> torch_files;
  std::string hf_layout_file;  // a file of the Hugging Face layout, beside config.json
  bool has_config = false;
  for (const auto& member : tree.members) {
    if (!is_regular_file(member)) continue;
    const std::string& path = member.path;
    if (file_name(path) == "saved_model.pb" && tensorflow.reasons.empty()) {
      tensorflow.add(kFileWeight * 2, path + " is a TensorFlow SavedModel");
    }
    if (!at_root(path)) continue;
    auto ext = extension_of(path);
    if (ext == ".pt" || ext == ".pth") torch_files.push_back(path);
    if (path == "model_index.json") huggingface.add(kFileWeight, "model_index.json at the root");
    if (path == "config.json") has_config = true;
    if (hf_layout_file.empty() && is_hugging_face_layout_file(path)) hf_layout_file = path;
    if (path == "xgboost-model" || ext == ".ubj" || ext == ".bst") {
      xgboost.add(kFileWeight, path + " at the root");
    }
    if (ext == ".joblib" || ext == ".pkl") sklearn.add(kFileWeight, path + " at the root");
  }
  if (!torch_files.empty()) {
    pytorch.add(kFileWeight, quoted_list(torch_files, 3) + " at the root");
  }
  if (has_config && !hf_layout_file.empty()) {
    huggingface.add(kFileWeight,
                    "config.json with " + hf_layout_file + " (the Hugging Face layout)");
  }
  if (auto architectures = config_architectures(tree); architectures && !architectures->empty()) {
    huggingface.add(kFileWeight, "config.json has architectures [" + architectures->front() + "]");
  }
  for (std::string_view key : {"HF_TASK", "HF_MODEL_ID"}) {
    if (options.env.count(key)) huggingface.add(kFileWeight, std::string(key) + " is set");
  }

  for (const auto& [path, source] : tree.contents) {
    if (!path.starts_with("code/") || !path.ends_with(".py")) continue;
    auto modules = imported_modules(source);
    const std::string& file = path;  // clang 14 cannot capture structured bindings
    auto note = [&](Evidence& evidence, std::string_view module) {
      if (modules.count(std::string(module))) {
        evidence.add(kImportWeight, file + " imports " + std::string(module));
      }
    };
    note(tensorflow, "tensorflow");
    note(huggingface, "transformers");
    note(huggingface, "diffusers");
    note(pytorch, "torch");
    note(xgboost, "xgboost");
    note(sklearn, "sklearn");
    note(sklearn, "joblib");
  }

  // Ties go to the first: a SavedModel decides alone, and a
  // Hugging Face model also holds PyTorch weights and imports torch.
  const std::array<std::pair<Profile, Evidence*>, 8> candidates = {{
      {Profile::djl_lmi, &djl},
      {Profile::tgi, &tgi},
      {Profile::tei, &tei},
      {Profile::tensorflow, &tensorflow},
      {Profile::huggingface, &huggingface},
      {Profile::pytorch, &pytorch},
      {Profile::xgboost, &xgboost},
      {Profile::sklearn, &sklearn},
  }};
  // A server's own file or setting decides among the servers alone: a Hugging Face
  // model's files and imports are what every one of them loads.
  const bool server = djl.score > 0 || tgi.score > 0 || tei.score > 0;
  const std::size_t considered = server ? 3 : candidates.size();
  const auto* best = &candidates.front();
  for (std::size_t i = 0; i < considered; ++i) {
    if (candidates[i].second->score > best->second->score) best = &candidates[i];
  }
  if (best->second->score == 0) {
    return {Profile::generic, "no framework-specific files or imports found"};
  }
  std::string reason;
  for (const auto& text : best->second->reasons) reason += (reason.empty() ? "" : "; ") + text;
  return {best->first, reason};
}

}  // namespace smpack::lint_internal
