// Per-container rules: what each serving container's defaults need from the files.
#include <algorithm>
#include <array>

#include "lint/lint_rules.h"

namespace smpack::lint_internal {
namespace {

bool all_digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> root_files_with(const ModelTree& tree,
                                         std::initializer_list<std::string_view> extensions) {
  std::vector<std::string> found;
  for (const auto& member : tree.members) {
    if (!is_regular_file(member) || !at_root(member.path)) continue;
    auto ext = extension_of(member.path);
    if (std::find(extensions.begin(), extensions.end(), ext) != extensions.end()) {
      found.push_back(member.path);
    }
  }
  return found;
}

// The default loader calls torch.jit.load: anything but a TorchScript zip fails there.
void check_default_model_is_torchscript(LintContext& context, const std::string& model) {
  if (!context.tree.weights_scanned) return;
  const WeightFileReport* report = weight_report(context.tree, model);
  if (report && report->format == WeightFormat::torchscript_zip) return;
  const std::string what =
      report ? "a " + std::string(describe(report->format)) +
                   (report->format == WeightFormat::pytorch_zip ? " (torch.save)" : "")
             : "no weight format smpack knows";
  context.report(rule("pytorch-default-not-torchscript"), model, 0, 0,
                 "no model_fn, so the PyTorch container loads '" + model +
                     "' with torch.jit.load, but it is " + what +
                     ", not TorchScript: model load fails; save it with torch.jit.save or define "
                     "model_fn");
}

// sagemaker-pytorch-inference-toolkit default_pytorch_inference_handler.py: model.pt, else
// exactly one .pt/.pth in the model directory, loaded with torch.jit.load.
void check_pytorch(LintContext& context) {
  if (context.binding("model_fn")) return;
  const Member* model_pt = context.tree.find("model.pt");
  auto candidates = root_files_with(context.tree, {".pt", ".pth"});
  if (model_pt && is_regular_file(*model_pt)) candidates = {"model.pt"};
  if (candidates.size() == 1) {
    check_default_model_is_torchscript(context, candidates.front());
    return;
  }
  std::string listed = "[";
  for (std::size_t i = 0; i < candidates.size(); ++i) {
    listed += (i ? ", '" : "'") + candidates[i] + "'";
  }
  listed += "]";
  context.report(rule("pytorch-default-model"), context.module_path, 0, 0,
                 "no model_fn, so the PyTorch container's default loader runs and raises "
                 "ValueError: Exactly one .pth or .pt file is required for PyTorch models: " +
                     listed +
                     " at model load; add model.pt (TorchScript) at the root or define model_fn");
}

// The PyTorch container's default input_fn decodes application/x-npy with sagemaker-inference's
// decoder, np.load(BytesIO(body), allow_pickle=True): an object array's pickle runs, so any
// caller of the endpoint can run code in it. A module's own input_fn or transform_fn takes
// the body instead.
void check_default_npy_input(LintContext& context) {
  if (context.binding("input_fn") || context.binding("transform_fn")) return;
  context.report(rule("pytorch-default-input-unpickles"), context.module_path, 0, 0,
                 "no input_fn, so the PyTorch container's default input_fn decodes "
                 "application/x-npy request bodies with np.load(allow_pickle=True): an object "
                 "array in a request runs its pickle, so anyone who can invoke the endpoint can "
                 "run code on it; define input_fn, and load NPY with allow_pickle=False");
}

// sagemaker-huggingface-inference-toolkit transformers_utils.py: ARCHITECTURES_2_TASK suffixes.
bool architecture_has_task(std::string_view architecture) {
  static constexpr std::array<std::string_view, 12> kSuffixes = {"TapasForQuestionAnswering",
                                                                 "ForQuestionAnswering",
                                                                 "ForTokenClassification",
                                                                 "ForSequenceClassification",
                                                                 "ForMultipleChoice",
                                                                 "ForMaskedLM",
                                                                 "ForCausalLM",
                                                                 "ForConditionalGeneration",
                                                                 "MTModel",
                                                                 "EncoderDecoderModel",
                                                                 "GPT2LMHeadModel",
                                                                 "T5WithLMHeadModel"};
  return std::any_of(kSuffixes.begin(), kSuffixes.end(),
                     [&](std::string_view suffix) { return architecture.ends_with(suffix); });
}

void check_huggingface(LintContext& context) {
  if (context.binding("model_fn") || !context.env("HF_TASK").empty() ||
      !context.env("HF_MODEL_ID").empty()) {
    return;
  }
  if (const Member* index = context.tree.find("model_index.json");
      index && is_regular_file(*index)) {
    return;
  }
  auto architectures = config_architectures(context.tree);
  std::string member = "config.json";
  std::string problem;
  std::string config_fix = "name the model's class in config.json's \"architectures\"";
  if (!context.tree.find("config.json")) {
    member = context.module_path;
    problem = "there is no config.json or model_index.json at the root";
    config_fix = "add the model's config.json";
  } else if (!architectures) {
    problem = "config.json is not a JSON object";
  } else if (architectures->empty()) {
    problem = "config.json has no \"architectures\"";
  } else if (!architecture_has_task(architectures->front())) {
    problem = "the toolkit cannot infer a task from the architecture " + architectures->front();
    config_fix.clear();
  } else {
    return;
  }
  context.report(rule("huggingface-no-task"), member, 0, 0,
                 "no model_fn and no HF_TASK: " + problem +
                     ", so the Hugging Face container fails at model load; set HF_TASK in the "
                     "endpoint's environment (e.g. HF_TASK=text-classification)" +
                     (config_fix.empty() ? "" : " or " + config_fix));
}

// sagemaker-tensorflow-serving-container: a SavedModel in <version>/ or <name>/<version>/.
void check_tensorflow_model(LintContext& context) {
  std::vector<std::string> misplaced;
  for (const auto& member : context.tree.members) {
    if (!is_regular_file(member) || file_name(member.path) != "saved_model.pb") continue;
    std::string_view dir = member.path;
    dir.remove_suffix(std::string_view("saved_model.pb").size());
    if (!dir.empty()) dir.remove_suffix(1);
    const std::string_view version = file_name(dir);
    const std::string_view parent = dir.substr(0, dir.size() - version.size());
    const bool parent_ok = parent.empty() || at_root(parent.substr(0, parent.size() - 1));
    if (all_digits(version) && parent_ok) return;
    misplaced.push_back(member.path);
  }
  context.report(
      rule("tensorflow-no-saved-model"),
      misplaced.empty() ? context.module_path : misplaced.front(), 0, 0,
      (misplaced.empty() ? std::string("no saved_model.pb in the model")
                         : quoted_list(misplaced) + " is not in an all-digit version folder") +
          "; TensorFlow Serving only loads <version>/saved_model.pb or "
          "<model name>/<version>/saved_model.pb (e.g. 1/saved_model.pb)");
}

// python_service.py: handler, else both input_handler and output_handler, else
// NotImplementedError when the module exists.
void check_tensorflow_handlers(LintContext& context) {
  if (!context.module || context.binding("handler")) return;
  const bool input = context.binding("input_handler") != nullptr;
  const bool output = context.binding("output_handler") != nullptr;
  if (input && output) return;
  std::string what = input    ? "input_handler without output_handler"
                     : output ? "output_handler without input_handler"
                              : "neither handler nor input_handler/output_handler";
  context.report(rule("tensorflow-handlers"), context.module_path, 0, 0,
                 context.module_path + " defines " + what +
                     "; TF Serving's python_service.py raises NotImplementedError: Handlers are "
                     "not implemented correctly in user script.");
}

void check_tensorflow_requirements(LintContext& context) {
  const Member* requirements = context.tree.find("code/requirements.txt");
  if (!requirements) return;
  const bool has_lib = std::any_of(
      context.tree.members.begin(), context.tree.members.end(),
      [](const Member& m) { return m.path == "code/lib" || m.path.starts_with("code/lib/"); });
  if (!has_lib) return;
  context.report(rule("tensorflow-requirements-ignored"), "code/requirements.txt", 0, 0,
                 "code/lib/ exists, so the TF Serving container installs nothing from "
                 "code/requirements.txt (it only puts code/lib/ on the Python path)");
}

void check_sklearn(LintContext& context) {
  const HandlerBinding* transform = context.binding("transform_fn");
  if (!transform) return;
  context.report(rule("sklearn-transform-fn-ignored"), transform->file, transform->line, 0,
                 "the scikit-learn container never calls transform_fn; it runs input_fn, "
                 "predict_fn and output_fn (yours or the defaults) instead");
}

}  // namespace

void run_container_rules(LintContext& context) {
  switch (context.profile) {
    case Profile::pytorch:
      check_pytorch(context);
      check_default_npy_input(context);
      break;
    case Profile::huggingface:
      check_huggingface(context);
      // A Hub model id (the toolkit downloads it) leaves the archive's index unread.
      if (context.env("HF_MODEL_ID").empty()) check_shard_index(context);
      break;
    case Profile::tensorflow:
      check_tensorflow_model(context);
      check_tensorflow_handlers(context);
      check_tensorflow_requirements(context);
      break;
    case Profile::sklearn:
      check_sklearn(context);
      break;
    case Profile::djl_lmi:
      check_djl_lmi(context);
      break;
    case Profile::tgi:
    case Profile::tei:
      check_text_server(context);
      break;
    case Profile::xgboost:
    case Profile::generic:
      break;
  }
}

}  // namespace smpack::lint_internal
