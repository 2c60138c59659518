// The LLM servers' containers: DJL Serving's LMI (serving.properties), text-generation-
// inference and text-embeddings-inference. Each loads a Hugging Face layout from
// /opt/ml/model itself and runs no handler module of code/. docs/rules.md gives, per
// rule, what the container does and where that is written.
#include <algorithm>
#include <array>
#include <charconv>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "lint/lint_rules.h"
#include "lint/serving_properties.h"
#include "util/ascii_text.h"

namespace smpack::lint_internal {
namespace {

constexpr std::size_t kMaxIndexBytes = 4u << 20;

// What LMI accepts for a key (djl_python/properties_manager/properties.py and the LMI
// configuration guide); keys not listed are passed on to the backend unchecked.
enum class ValueKind { count, count_or_zero, count_or_max, boolean, one_of };
struct OptionRule {
  std::string_view key;
  ValueKind kind;
  std::initializer_list<std::string_view> allowed = {};
};

const std::array<OptionRule, 17>& option_rules() {
  static const std::array<OptionRule, 17> kRules = {{
      {"engine",
       ValueKind::one_of,
       {"Python", "MPI", "PyTorch", "MXNet", "TensorFlow", "OnnxRuntime", "XGBoost", "LightGBM",
        "TensorRT", "DeepSpeed"}},
      {"option.rolling_batch",
       ValueKind::one_of,
       {"auto", "disable", "vllm", "lmi-dist", "trtllm", "tnx"}},
      {"option.dtype",
       ValueKind::one_of,
       {"auto", "fp32", "fp16", "bf16", "int8", "float32", "float16", "bfloat16"}},
      {"option.tensor_parallel_degree", ValueKind::count_or_max},
      {"option.pipeline_parallel_degree", ValueKind::count},
      {"option.max_rolling_batch_size", ValueKind::count},
      {"option.max_model_len", ValueKind::count},
      {"option.cluster_size", ValueKind::count},
      {"batch_size", ValueKind::count},
      {"max_batch_delay", ValueKind::count_or_zero},
      {"job_queue_size", ValueKind::count_or_zero},
      {"minWorkers", ValueKind::count_or_zero},
      {"maxWorkers", ValueKind::count_or_zero},
      {"option.trust_remote_code", ValueKind::boolean},
      {"option.mpi_mode", ValueKind::boolean},
      {"option.enable_lora", ValueKind::boolean},
      {"option.parallel_loading", ValueKind::boolean},
  }};
  return kRules;
}

// A whole number that fits 63 bits (what Java's and pydantic's ints read), above 0 unless
// zero is allowed.
bool is_count(std::string_view text, bool zero_allowed = false) {
  long long value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  return error == std::errc() && end == text.data() + text.size() &&
         (value > 0 || (zero_allowed && value == 0));
}

// Why LMI refuses `value` for `rule`, or "" when it accepts it.
std::string refusal(const OptionRule& rule, const std::string& value) {
  switch (rule.kind) {
    case ValueKind::count:
      return is_count(value) ? "" : "is not a positive whole number";
    case ValueKind::count_or_zero:
      return is_count(value, /*zero_allowed=*/true) ? "" : "is not a whole number of 0 or more";
    case ValueKind::count_or_max:
      return is_count(value) || value == "max" ? "" : "is not a positive whole number or max";
    case ValueKind::boolean: {
      static const std::set<std::string> kBooleans = {"true", "false", "1",  "0",
                                                      "yes",  "no",    "on", "off"};
      return kBooleans.count(ascii_lower(value)) ? "" : "is not true or false";
    }
    case ValueKind::one_of: {
      const bool known = std::any_of(rule.allowed.begin(), rule.allowed.end(),
                                     [&](std::string_view allowed) { return allowed == value; });
      if (known) return "";
      std::string list;
      for (auto allowed : rule.allowed) list += (list.empty() ? "" : ", ") + std::string(allowed);
      return "is not one of " + list;
    }
  }
  return "";
}

bool has_root_file(const ModelTree& tree, std::string_view name) {
  const Member* member = tree.find(name);
  return member && is_regular_file(*member);
}

// HF_MODEL_ID (TGI, TEI) or option.model_id (LMI) naming a Hub model or an S3 prefix:
// the server downloads the model instead of reading /opt/ml/model.
bool loads_elsewhere(std::string_view model_id) {
  return !model_id.empty() && !model_id.starts_with("/");
}

std::string_view server_name(Profile profile) {
  switch (profile) {
    case Profile::djl_lmi:
      return "LMI (DJL Serving)";
    case Profile::tgi:
      return "text-generation-inference";
    case Profile::tei:
      return "text-embeddings-inference";
    default:
      return "the container";
  }
}

void check_code_ignored(LintContext& context) {
  const bool has_code = std::any_of(
      context.tree.members.begin(), context.tree.members.end(),
      [](const Member& m) { return is_regular_file(m) && m.path.starts_with("code/"); });
  if (!has_code) return;
  const std::string what =
      context.profile == Profile::djl_lmi
          ? "LMI imports model.py at the root (or option.entryPoint) and installs the root's "
            "requirements.txt; code/ is never imported and code/requirements.txt never installed"
          : std::string(server_name(context.profile)) +
                " runs no Python handler: code/ is never imported and code/requirements.txt "
                "never installed";
  context.report(rule("llm-code-ignored"), "code", 0, 0, what);
}

// config.json and the tokenizer of a model the server reads from /opt/ml/model.
void check_model_files(LintContext& context) {
  const std::string server(server_name(context.profile));
  if (!has_root_file(context.tree, "config.json")) {
    context.report(rule("llm-config-missing"), "config.json", 0, 0,
                   server +
                       " loads /opt/ml/model as a Hugging Face model and reads its "
                       "config.json first; there is none at the root");
  }
  if (context.profile == Profile::tei) {
    if (!has_root_file(context.tree, "tokenizer.json")) {
      context.report(rule("llm-tokenizer-missing"), Severity::error, "tokenizer.json",
                     "text-embeddings-inference only supports fast tokenizers and fails at "
                     "start without tokenizer.json (save it with the model's "
                     "tokenizer.save_pretrained)");
    }
    return;
  }
  static constexpr std::array<std::string_view, 5> kTokenizerFiles = {
      "tokenizer.json", "tokenizer_config.json", "tokenizer.model", "vocab.json", "vocab.txt"};
  const bool any = std::any_of(kTokenizerFiles.begin(), kTokenizerFiles.end(),
                               [&](auto name) { return has_root_file(context.tree, name); });
  if (!any) {
    context.report(rule("llm-tokenizer-missing"), "tokenizer.json", 0, 0,
                   server +
                       " finds no tokenizer at the root (tokenizer.json, "
                       "tokenizer_config.json, tokenizer.model, vocab.json, vocab.txt): "
                       "prompts cannot be tokenized; save the tokenizer beside the model");
  }
}

}  // namespace

bool imports_code_handlers(Profile profile) {
  return profile != Profile::djl_lmi && profile != Profile::tgi && profile != Profile::tei;
}

void check_djl_lmi(LintContext& context) {
  check_code_ignored(context);
  // LMI takes the model's location from option.model_id, OPTION_MODEL_ID or HF_MODEL_ID.
  std::string model_id = context.env("OPTION_MODEL_ID");
  if (model_id.empty()) model_id = context.env("HF_MODEL_ID");
  if (const std::string* text = context.tree.content("serving.properties")) {
    std::map<std::string, const OptionRule*, std::less<>> rules;
    for (const auto& option : option_rules()) rules.emplace(std::string(option.key), &option);
    for (const auto& entry : parse_serving_properties(*text)) {
      // Trailing blanks, which Properties.load keeps, are not part of the value here.
      const std::string value(trim_space(entry.value));
      if (entry.key == "option.model_id") model_id = value;
      const auto found = rules.find(entry.key);
      if (found == rules.end()) continue;
      if (const std::string why = refusal(*found->second, value); !why.empty()) {
        context.report(rule("djl-option-invalid"), "serving.properties", entry.line, 0,
                       entry.key + "=" + value + " " + why + ", so LMI fails at model load");
      }
    }
  }
  if (loads_elsewhere(model_id)) return;
  check_model_files(context);
  check_shard_index(context);
}

void check_text_server(LintContext& context) {
  check_code_ignored(context);
  if (loads_elsewhere(context.env("HF_MODEL_ID"))) return;
  check_model_files(context);
  check_shard_index(context);
  if (context.profile != Profile::tgi) return;
  bool safetensors = false, bin = false;
  for (const auto& member : context.tree.members) {
    if (!is_regular_file(member) || !at_root(member.path)) continue;
    safetensors |= member.path.ends_with(".safetensors");
    bin |= member.path.ends_with(".bin") && member.path.starts_with("pytorch_model");
  }
  if (bin && !safetensors) {
    context.report(rule("llm-weights-not-safetensors"), "pytorch_model.bin", 0, 0,
                   "text-generation-inference serves safetensors only: at every start it "
                   "converts the .bin weights to safetensors first, which costs time and disk "
                   "on the instance; save them with safe_serialization=True");
  }
}

void check_shard_index(LintContext& context) {
  for (std::string_view index_name :
       {"model.safetensors.index.json", "pytorch_model.bin.index.json"}) {
    if (!has_root_file(context.tree, index_name)) continue;
    const std::string member(index_name);
    const std::string* text = context.tree.content(index_name);
    if (!text || text->size() > kMaxIndexBytes) continue;  // not kept: not judged
    int reported = 0;  // a wrong index is said a few times, not once per tensor
    // TGI routes each tensor to the shard that holds it and never reads the index; the
    // others (transformers, vLLM, TEI) look tensors up through weight_map.
    const bool tgi = context.profile == Profile::tgi;
    auto report = [&](const std::string& problem) {
      if (++reported > 5) return;
      context.report(rule("hf-shard-index-invalid"), tgi ? Severity::warning : Severity::error,
                     member,
                     problem + (tgi ? "; TGI finds tensors in the shards themselves, but every "
                                      "other loader of the model reads the index"
                                    : "; the model's loader opens the shards weight_map names "
                                      "and fails at model load"));
    };
    const auto doc = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
    if (!doc.is_object() || !doc.contains("weight_map") || !doc["weight_map"].is_object()) {
      report("it is not a JSON object with a \"weight_map\" object");
      continue;
    }
    std::map<std::string, std::set<std::string>> listed;  // shard -> tensors of its report
    std::set<std::string> missing_reported;
    for (const auto& [tensor, shard_value] : doc["weight_map"].items()) {
      if (!shard_value.is_string()) {
        report("weight_map[\"" + tensor + "\"] is not a file name");
        break;
      }
      const std::string shard = shard_value.get<std::string>();
      if (!has_root_file(context.tree, shard)) {
        if (missing_reported.insert(shard).second) {
          report("weight_map names " + shard + " (for " + tensor + "), which is not in the model");
        }
        continue;
      }
      auto [it, inserted] = listed.try_emplace(shard);
      if (inserted) {
        const WeightFileReport* shard_report = weight_report(context.tree, shard);
        if (!shard_report || shard_report->format != WeightFormat::safetensors ||
            !shard_report->complete) {
          it->second.insert("*");  // tensors not known: not judged
        } else {
          for (const auto& info : shard_report->tensors) it->second.insert(info.name);
        }
      }
      if (!it->second.count("*") && !it->second.count(tensor)) {
        report("weight_map puts " + tensor + " in " + shard + ", which holds no such tensor");
      }
    }
  }
}

}  // namespace smpack::lint_internal
