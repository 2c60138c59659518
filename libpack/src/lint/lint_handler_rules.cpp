// Handler rules: what the inference toolkit (or TF Serving's python_service.py) does with the
// names the handler module binds (sagemaker_inference/transformer.py).
#include <algorithm>
#include <array>
#include <numeric>

#include "lint/lint_rules.h"
#include "python/python_tokenizer.h"
#include "smpack/edit_distance.h"

namespace smpack::lint_internal {
namespace {

enum class CallTime { model_load, first_request };

struct HandlerContract {
  std::string_view name;
  int arguments;  // positional arguments passed; the toolkit also accepts one more (context)
  bool optional_context;
  CallTime when;
};

// transformer.py's _run_handler_function calls with these arguments (+ context when accepted).
constexpr std::array<HandlerContract, 7> kToolkitHandlers = {{
    {"model_fn", 1, true, CallTime::model_load},
    {"input_fn", 2, true, CallTime::first_request},
    {"predict_fn", 2, true, CallTime::first_request},
    {"output_fn", 2, true, CallTime::first_request},
    {"transform_fn", 4, true, CallTime::first_request},
    {"pre_model_fn", 1, true, CallTime::model_load},
    {"model_warmup_fn", 2, true, CallTime::model_load},
}};

// TF Serving's python_service.py calls handler(data, context) and the pair the same way.
constexpr std::array<HandlerContract, 3> kTfServingHandlers = {{
    {"handler", 2, false, CallTime::first_request},
    {"input_handler", 2, false, CallTime::first_request},
    {"output_handler", 2, false, CallTime::first_request},
}};

std::span<const HandlerContract> contracts_for(Profile profile) {
  if (profile == Profile::tensorflow) return kTfServingHandlers;
  return kToolkitHandlers;
}

std::string_view when_text(CallTime when) {
  return when == CallTime::model_load ? "at model load, so the worker never starts"
                                      : "at the first request, so every request fails";
}

std::string plural(int n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

bool looks_like_estimator_model_fn(const HandlerBinding& binding) {
  int hits = 0;
  for (const auto& p : binding.parameters) {
    hits += (p.name == "features" || p.name == "labels" || p.name == "mode") ? 1 : 0;
  }
  return hits >= 2;
}

// Python's own TypeError when `given` positional arguments reach the parameters, or "".
std::string positional_call_error(std::string_view name, const std::vector<Parameter>& params,
                                  int given) {
  int positional = 0, with_default = 0;
  bool var_positional = false;
  std::vector<std::string> required_keyword_only;
  for (const auto& p : params) {
    switch (p.kind) {
      case Parameter::Kind::positional_only:
      case Parameter::Kind::positional_or_keyword:
        ++positional;
        with_default += p.has_default ? 1 : 0;
        break;
      case Parameter::Kind::var_positional:
        var_positional = true;
        break;
      case Parameter::Kind::keyword_only:
        if (!p.has_default) required_keyword_only.push_back(p.name);
        break;
      case Parameter::Kind::var_keyword:
        break;
    }
  }
  const std::string function = std::string(name) + "()";
  if (!var_positional && given > positional) {
    const std::string takes = with_default > 0
                                  ? "from " + std::to_string(positional - with_default) + " to " +
                                        std::to_string(positional) + " positional arguments"
                                  : plural(positional, "positional argument");
    return "TypeError: " + function + " takes " + takes + " but " + std::to_string(given) +
           (given == 1 ? " was" : " were") + " given";
  }
  if (!required_keyword_only.empty()) {
    const int n = static_cast<int>(required_keyword_only.size());
    return "TypeError: " + function + " missing " + std::to_string(n) + " required keyword-only " +
           (n == 1 ? "argument" : "arguments") + ": " + quoted_list(required_keyword_only, 10);
  }
  return {};
}

void check_syntax(LintContext& context) {
  for (const auto& problem : context.module->problems) {
    if (problem.kind != ScanProblem::Kind::syntax_error &&
        problem.kind != ScanProblem::Kind::python2_syntax) {
      continue;
    }
    context.report(rule("handler-syntax-error"),
                   problem.file.empty() ? context.module_path : problem.file, problem.line,
                   problem.column,
                   "SyntaxError: " + problem.message +
                       "; importing the handler module fails at model load, so the worker never "
                       "starts");
  }
}

void check_transform_with_io(LintContext& context) {
  const HandlerBinding* transform = context.binding("transform_fn");
  if (!transform || context.profile == Profile::tensorflow || context.profile == Profile::sklearn) {
    return;
  }
  std::vector<std::string> others;
  for (std::string_view name : {"input_fn", "predict_fn", "output_fn"}) {
    if (context.binding(name)) others.emplace_back(name);
  }
  if (others.empty()) return;
  context.report(rule("handler-transform-with-io"), transform->file, transform->line, 0,
                 "transform_fn is defined together with " + quoted_list(others) +
                     "; at model load the toolkit raises ValueError: Cannot use transform_fn "
                     "implementation in conjunction with input_fn, predict_fn, and/or output_fn "
                     "implementation");
}

// A handler whose signature the toolkit sees differently from its def: what
// inspect.signature counts decides how many arguments it passes, and whether the
// context is one of them.
void report_unknown_signature(LintContext& context, const HandlerContract& contract,
                              const HandlerBinding& binding) {
  const std::string name(contract.name);
  const std::string takes = "which takes " + plural(contract.arguments, "argument");
  std::string message;
  if (binding.note.starts_with("functools.partial")) {
    message = name +
              " is a functools.partial: inspect.signature counts only the parameters "
              "it leaves unbound, keyword ones included, and the toolkit passes that many "
              "positional arguments (one more being the context); a partial that binds a "
              "parameter by keyword then also gets it positionally, which raises "
              "TypeError " +
              std::string(when_text(contract.when)) + "; define " + name +
              " with a def that calls the function instead";
  } else if (!binding.decorators.empty()) {
    message = name + " is wrapped by @" + binding.decorators.front() +
              ", which smpack cannot see through: the toolkit counts the parameters "
              "inspect.signature shows; a wrapper without functools.wraps shows its own "
              "(*args, **kwargs), which counts 2, so the toolkit passes the context as well, "
              "and the wrapped " +
              name + ", " + takes + ", raises TypeError " + std::string(when_text(contract.when)) +
              " (decorate the wrapper with @functools.wraps)";
  } else if (binding.note.starts_with("value of an expression")) {
    message = name + " is the " + binding.note +
              ": smpack cannot tell its signature, and the toolkit passes as many arguments as "
              "inspect.signature counts (one more being the context); check that " +
              name + ", " + takes + ", accepts them";
  } else {
    return;
  }
  context.report(rule("handler-signature-unknown"), binding.file, binding.line, 0, message);
}

void check_signature(LintContext& context, const HandlerContract& contract,
                     const HandlerBinding& binding) {
  if (binding.is_async()) {
    context.report(rule("handler-async"), binding.file, binding.line, 0,
                   std::string(contract.name) +
                       " is an async def: the container calls it without awaiting, so it gets a "
                       "coroutine object instead of " +
                       (contract.name == "model_fn" ? "the model" : "a result") +
                       " (make it a plain def)");
    return;
  }
  if (!binding.signature_known) {
    report_unknown_signature(context, contract, binding);
    return;
  }
  if (!binding.is_function() || !binding.params) return;
  const int count = *binding.params;
  const int low = contract.arguments;
  const int high = contract.optional_context ? low + 1 : low;
  // Bound under conditions decided at run time: say which candidates fail, as a warning,
  // rather than judge the last one alone.
  if (!binding.alternatives.empty()) {
    std::string failing;
    auto judge = [&](int line, std::optional<int> params) {
      if (params && (*params < low || *params > high))
        failing += (failing.empty() ? "" : ", ") + std::string("line ") + std::to_string(line) +
                   " (" + plural(*params, "parameter") + ")";
    };
    for (const auto& [line, params] : binding.alternatives) judge(line, params);
    judge(binding.line, binding.params);
    if (!failing.empty()) {
      context.report(
          rule("handler-depends-on-condition"), binding.file, binding.line, 0,
          std::string(contract.name) +
              " is bound more than once under conditions decided at run time; if the "
              "one at " +
              failing + " runs, the toolkit raises TypeError " +
              std::string(when_text(contract.when)) + " (it takes " + std::to_string(low) +
              (high > low ? " or " + std::to_string(high) : std::string()) + " parameters)");
    }
    return;
  }
  if (count < low || count > high) {
    // transformer.py's own message, including its "1 arguments" grammar.
    std::string message;
    if (contract.optional_context) {
      message = "TypeError: " + std::string(contract.name) + " takes " + std::to_string(count) +
                " arguments but " + std::to_string(low) + " were given. The toolkit raises it " +
                std::string(when_text(contract.when)) + "; it accepts " + std::to_string(low) +
                " or " + std::to_string(high) + " parameters (the last one being the context)";
    } else {
      message = positional_call_error(contract.name, binding.parameters, low);
      if (message.empty()) {
        message = std::string(contract.name) + " has " + plural(count, "parameter");
      }
      message += " " + std::string(when_text(contract.when)) + "; it is called as " +
                 std::string(contract.name) + "(data, context)";
    }
    if (contract.name == "model_fn" && looks_like_estimator_model_fn(binding)) {
      message +=
          "; this is a TensorFlow Estimator model_fn(features, labels, mode, params), "
          "not a serving handler";
    }
    context.report(rule("handler-arity"), binding.file, binding.line, 0, message);
    return;
  }
  // The count fits, but the last parameter, meant as an option, receives the context.
  if (contract.optional_context && count == high && !binding.parameters.empty()) {
    const Parameter& last = binding.parameters.back();
    const bool positional = last.kind == Parameter::Kind::positional_or_keyword ||
                            last.kind == Parameter::Kind::positional_only;
    if (positional && last.has_default && last.name.find("context") == std::string::npos &&
        last.name.find("ctx") == std::string::npos) {
      context.report(rule("handler-context-in-parameter"), binding.file, binding.line, 0,
                     std::string(contract.name) + " counts " + plural(count, "parameter") +
                         ", so the toolkit passes the request context as its last one, '" +
                         last.name +
                         "', instead of leaving its default; name it context, or "
                         "give the option another way");
    }
  }
  // The count fits, but the call passes `count` positional arguments.
  if (auto error = positional_call_error(contract.name, binding.parameters, count);
      !error.empty()) {
    const bool with_context = count > low;
    context.report(rule("handler-context-not-accepted"), binding.file, binding.line, 0,
                   std::string(contract.name) + " counts " + plural(count, "parameter") +
                       ", so the toolkit calls it with " + plural(count, "positional argument") +
                       (with_context ? " (the last one the context)" : "") + ": " + error + " " +
                       std::string(when_text(contract.when)));
  }
}

void check_signatures(LintContext& context) {
  for (const auto& contract : contracts_for(context.profile)) {
    if (const HandlerBinding* binding = context.binding(contract.name)) {
      check_signature(context, contract, *binding);
    }
  }
}

// The handler a function name was probably meant to be, or "".
std::string_view intended_handler(std::string_view name, Profile profile) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 12> kUsual = {{
      {"load", "model_fn"},
      {"load_model", "model_fn"},
      {"predict", "predict_fn"},
      {"inference", "predict_fn"},
      {"preprocess", "input_fn"},
      {"postprocess", "output_fn"},
      {"input_handler", "input_fn"},
      {"output_handler", "output_fn"},
      {"handler", "transform_fn"},
      {"handle", "transform_fn"},
      {"model_fn", "handler"},
      {"predict_fn", "handler"},
  }};
  const bool tf = profile == Profile::tensorflow;
  for (const auto& [usual, handler] : kUsual) {
    if (usual != name) continue;
    const bool target_is_tf = handler == "handler";
    if (target_is_tf == tf) return handler;
  }
  if (tf) {
    // Toolkit names in a TF Serving module: python_service.py never looks them up.
    for (auto toolkit : kHandlerNames) {
      if (toolkit == name)
        return name == "input_fn"    ? "input_handler"
               : name == "output_fn" ? "output_handler"
                                     : "handler";
    }
  }
  for (const auto& contract : contracts_for(profile)) {
    if (name.size() >= 6 && name != contract.name && edit_distance(name, contract.name) <= 2) {
      return contract.name;
    }
  }
  return {};
}

// Whether `name` appears in `file` other than where it is bound: a helper the module
// calls (predict_fn calling preprocess()) is not a misnamed handler.
bool referenced_elsewhere(const LintContext& context, const std::string& file,
                          const std::string& name) {
  const std::string* source = context.tree.content(file);
  if (!source) return false;
  const auto tokens = tokenize_python(*source).tokens;
  return std::count_if(tokens.begin(), tokens.end(), [&](const Token& t) {
           return t.kind == TokenKind::name && t.text == name;
         }) > 1;
}

void check_near_misses(LintContext& context) {
  for (const auto& [name, binding] : context.module->bindings) {
    if (binding.kind == BindingKind::deleted || !binding.is_function()) continue;
    if (binding.kind == BindingKind::imported) continue;  // helpers imported by name
    auto intended = intended_handler(name, context.profile);
    if (intended.empty() || context.binding(intended)) continue;
    if (referenced_elsewhere(context, binding.file, name)) continue;
    std::string message = "'" + name + "' is not a name the container looks up";
    if (context.profile == Profile::tensorflow) {
      message += " (TF Serving calls handler, or input_handler and output_handler)";
    } else if (name == "input_handler" || name == "output_handler" || name == "handler") {
      message += " (only TF Serving uses it)";
    }
    message += "; did you mean " + std::string(intended) + "? As written, the default runs instead";
    context.report(rule("handler-near-miss"), binding.file, binding.line, 0, message);
  }
}

void check_nested(LintContext& context) {
  for (const auto& nested : context.module->nested) {
    const auto contracts = contracts_for(context.profile);
    const bool relevant = std::any_of(contracts.begin(), contracts.end(),
                                      [&](const auto& c) { return c.name == nested.name; });
    if (!relevant || context.binding(nested.name)) continue;
    context.report(rule("handler-nested-only"), context.module_path, nested.line, 0,
                   nested.name + " is defined only inside " + nested.container +
                       "; the container looks it up as a module attribute, finds nothing and "
                       "silently uses its default");
  }
}

bool has_root_file(const ModelTree& tree) {
  return std::any_of(tree.members.begin(), tree.members.end(),
                     [](const Member& m) { return is_regular_file(m) && at_root(m.path); });
}

void check_model_fn_needed(LintContext& context) {
  if (context.binding("model_fn")) return;
  const std::string member = context.module_path;
  switch (context.profile) {
    case Profile::sklearn:
      context.report(rule("handler-no-model-fn"), member, 0, 0,
                     "no model_fn: the scikit-learn container has no default loader and raises "
                     "NotImplementedError (Please provide a model_fn implementation.) at model "
                     "load");
      break;
    case Profile::xgboost:
      if (!has_root_file(context.tree)) {
        context.report(rule("handler-no-model-fn"), member, 0, 0,
                       "no model_fn and no model file at the root: the XGBoost container's "
                       "default model_fn loads the first file in /opt/ml/model and fails at "
                       "model load");
      }
      break;
    case Profile::generic:
      // Only a module that defines handlers says the generic toolkit is in use.
      if (context.module && std::any_of(kHandlerNames.begin(), kHandlerNames.end(),
                                        [&](auto n) { return context.binding(n) != nullptr; })) {
        context.report(rule("handler-no-model-fn"), member, 0, 0,
                       "the handler module defines handlers but no model_fn: the inference "
                       "toolkit's default_model_fn raises NotImplementedError (Please provide a "
                       "model_fn implementation.) at model load");
      }
      break;
    default:
      break;  // PyTorch and Hugging Face defaults: lint_container_rules.cpp
  }
}

// A module-level __getattr__ (PEP 562) answers the toolkit's getattr for any name the
// module does not bind, handlers included: which ones it supplies is decided at run time.
void check_module_getattr(LintContext& context) {
  const HandlerBinding* getattr = context.module->find("__getattr__");
  if (!getattr || !getattr->is_function()) return;
  context.report(rule("handler-module-getattr"), getattr->file, getattr->line, 0,
                 "the module defines __getattr__, which the toolkit's lookup of every handler "
                 "the module does not define goes through: the handlers it returns, and their "
                 "signatures, are decided at run time, so smpack cannot check them");
}

}  // namespace

void run_handler_rules(LintContext& context) {
  check_model_fn_needed(context);
  if (!context.module) return;
  check_syntax(context);
  check_transform_with_io(context);
  check_signatures(context);
  check_module_getattr(context);
  check_near_misses(context);
  check_nested(context);
}

}  // namespace smpack::lint_internal
