// Weight-file rules: what loading each weight file would do, judged from its content
// (weight_scan.h) and never from its name.
#include <algorithm>

#include "lint/lint_rules.h"

namespace smpack::lint_internal {
namespace {

// The rule each kind of problem belongs to; nullopt for kinds another rule covers (the
// verdict decides the pickle rules, the format decides TorchScript).
std::optional<RuleId> rule_for(WeightProblemKind kind) {
  switch (kind) {
    case WeightProblemKind::zip_name_mismatch:
    case WeightProblemKind::zip_header_mismatch:
    case WeightProblemKind::zip_duplicate_name:
    case WeightProblemKind::zip_overlap:
    case WeightProblemKind::zip_flags:
      return rule("weights-zip-anomaly");
    case WeightProblemKind::truncated:
    case WeightProblemKind::pickle_malformed:
    case WeightProblemKind::zip_malformed:
    case WeightProblemKind::zip_crc_mismatch:
    case WeightProblemKind::zip_unsupported:
    case WeightProblemKind::checkpoint_layout:
    case WeightProblemKind::safetensors_invalid:
    case WeightProblemKind::numpy_malformed:
      return rule("weights-corrupt");
    case WeightProblemKind::safetensors_strict:
      return rule("weights-safetensors-strict");
    case WeightProblemKind::unrecognised_format:
      return rule("weights-unknown-format");
    case WeightProblemKind::pickle_not_judged:
      return rule("weights-not-judged");
    case WeightProblemKind::keras_lambda:
      return rule("weights-keras-lambda");
    case WeightProblemKind::not_analysed:
      return rule("weights-not-analysed");
    case WeightProblemKind::not_available:
    case WeightProblemKind::cap_exceeded:
      return rule("weights-partly-scanned");
    case WeightProblemKind::pickle_dangerous_global:
    case WeightProblemKind::pickle_dynamic_global:
    case WeightProblemKind::pickle_unknown_global:
    case WeightProblemKind::pickle_unsafe_opcode:
    case WeightProblemKind::torchscript_code:  // info lists it; not a finding
      break;
  }
  return std::nullopt;
}

// The messages of `report`'s problems that match, at most three, then a count.
std::string problem_list(const WeightFileReport& report, auto matches) {
  std::string out;
  std::size_t shown = 0, total = 0;
  for (const auto& problem : report.problems) {
    if (!matches(problem.kind)) continue;
    if (++total > 3) continue;
    out += (shown++ ? "; " : "") + problem.message;
  }
  if (total > shown) out += "; and " + std::to_string(total - shown) + " more";
  return out;
}

void check_pickle_verdict(LintContext& context, const WeightFileReport& report) {
  if (!report.verdict || *report.verdict == PickleVerdict::weights_only) return;
  // TorchScript always imports its own code, and the PyTorch container's default
  // loader needs exactly that; `info` lists it as code. Only dangerous imports count.
  if (report.format == WeightFormat::torchscript_zip && *report.verdict != PickleVerdict::dangerous)
    return;
  const std::string format(describe(report.format));
  if (*report.verdict == PickleVerdict::dangerous) {
    context.report(rule("weights-dangerous-pickle"), report.member, 0, 0,
                   problem_list(report,
                                [](WeightProblemKind k) {
                                  return k == WeightProblemKind::pickle_dangerous_global ||
                                         k == WeightProblemKind::pickle_dynamic_global;
                                }) +
                       " (" + format +
                       "): unpickling it runs that call on the endpoint "
                       "(torch.load with weights_only=False, pickle.load, joblib.load)");
    return;
  }
  // A class pickled from the training script's __main__ cannot load anywhere else: the
  // endpoint's __main__ is the model server. Sure to fail, so an error.
  std::vector<std::string> from_main;
  for (const auto& global : report.globals) {
    if (global.starts_with("__main__.")) from_main.push_back(global.substr(9));
  }
  if (!from_main.empty()) {
    context.report(rule("weights-unknown-code"), Severity::error, report.member,
                   "pickles " + quoted_list(from_main, 3) +
                       " from the training script's __main__ (" + format +
                       "): the endpoint has no such class, so loading fails with \"Can't get "
                       "attribute '" +
                       from_main.front() +
                       "' on <module '__main__'>\" (and torch >= 2.6 refuses it by default); save "
                       "model.state_dict(), safetensors or torch.jit.save instead");
    return;
  }
  // sklearn and xgboost models are pickled estimators by design, loaded by model_fn;
  // what such a pickle may import is still an allowlist (is_estimator_global).
  const bool pickled_estimators =
      context.profile == Profile::sklearn || context.profile == Profile::xgboost;
  if (pickled_estimators && report.format == WeightFormat::pickle &&
      std::all_of(report.globals.begin(), report.globals.end(),
                  [](const std::string& g) { return is_estimator_global(g); })) {
    return;
  }
  context.report(
      rule("weights-unknown-code"), report.member, 0, 0,
      problem_list(report,
                   [](WeightProblemKind k) {
                     return k == WeightProblemKind::pickle_unknown_global ||
                            k == WeightProblemKind::pickle_unsafe_opcode;
                   }) +
          " (" + format +
          "): torch.load(weights_only=True), the default since PyTorch 2.6, refuses it, and "
          "weights_only=False imports and runs that code; save a state dict or safetensors");
}

void check_problems(LintContext& context, const WeightFileReport& report) {
  for (RuleId problem_rule :
       {rule("weights-zip-anomaly"), rule("weights-corrupt"), rule("weights-safetensors-strict"),
        rule("weights-unknown-format"), rule("weights-not-judged"), rule("weights-keras-lambda"),
        rule("weights-not-analysed"), rule("weights-partly-scanned")}) {
    auto in_rule = [problem_rule](WeightProblemKind kind) {
      return rule_for(kind) == problem_rule;
    };
    if (std::none_of(report.problems.begin(), report.problems.end(),
                     [&](const WeightProblem& p) { return in_rule(p.kind); })) {
      continue;
    }
    context.report(problem_rule, report.member, 0, 0, problem_list(report, in_rule));
  }
}

}  // namespace

void run_weight_rules(LintContext& context) {
  for (const WeightFileReport& report : context.tree.weights) {
    check_pickle_verdict(context, report);
    check_problems(context, report);
  }
}

const WeightFileReport* weight_report(const ModelTree& tree, std::string_view member) {
  auto it = std::find_if(tree.weights.begin(), tree.weights.end(),
                         [&](const WeightFileReport& r) { return r.member == member; });
  return it == tree.weights.end() ? nullptr : &*it;
}

}  // namespace smpack::lint_internal
