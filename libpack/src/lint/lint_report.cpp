// lint_tree(): picks the profile, scans the handler module once, runs every rule family and
// orders the findings.
#include <algorithm>
#include <array>
#include <tuple>

#include "lint/lint_rules.h"
#include "smpack/deploy_call.h"

namespace smpack {
namespace lint_internal {

LintContext::LintContext(const ModelTree& tree_in, const LintOptions& options_in,
                         Profile profile_in)
    : tree(tree_in), options(options_in), profile(profile_in) {}

bool LintContext::enabled(RuleId rule) const {
  return options.disabled.find(rule.id()) == options.disabled.end();
}

void LintContext::report(RuleId rule, std::string member, int line, int column,
                         std::string message) {
  if (!enabled(rule)) return;
  findings_.push_back({std::string(rule.id()), rule.info().severity, std::move(member), line,
                       column, std::move(message)});
}

void LintContext::report(RuleId rule, Severity severity, std::string member, std::string message) {
  if (!enabled(rule)) return;
  findings_.push_back(
      {std::string(rule.id()), severity, std::move(member), 0, 0, std::move(message)});
}

std::string LintContext::env(std::string_view key) const {
  auto it = options.env.find(key);
  return it == options.env.end() ? std::string() : it->second;
}

const HandlerBinding* LintContext::binding(std::string_view name) const {
  if (!module) return nullptr;
  const HandlerBinding* found = module->find(name);
  return (found && found->kind != BindingKind::deleted) ? found : nullptr;
}

bool is_regular_file(const Member& member) {
  return member.type == EntryType::file;
}

bool at_root(std::string_view path) {
  return !path.empty() && path.find('/') == std::string_view::npos;
}

std::string_view file_name(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

std::string_view extension_of(std::string_view path) {
  auto name = file_name(path);
  auto dot = name.rfind('.');
  return (dot == std::string_view::npos || dot == 0) ? std::string_view() : name.substr(dot);
}

bool is_weight_file(std::string_view path) {
  static constexpr std::array<std::string_view, 12> kWeightExtensions = {
      ".pt",   ".pth",    ".bin", ".safetensors", ".onnx", ".h5",
      ".ckpt", ".joblib", ".pkl", ".pb",          ".ubj",  ".bst"};
  auto ext = extension_of(path);
  return std::find(kWeightExtensions.begin(), kWeightExtensions.end(), ext) !=
         kWeightExtensions.end();
}

std::string quoted_list(const std::vector<std::string>& names, std::size_t limit) {
  std::string out;
  const std::size_t shown = std::min(names.size(), limit);
  for (std::size_t i = 0; i < shown; ++i) {
    if (i > 0) out += (i + 1 == shown && shown == names.size()) ? " and " : ", ";
    out += "'" + names[i] + "'";
  }
  if (names.size() > shown) out += " and " + std::to_string(names.size() - shown) + " more";
  return out;
}

std::vector<std::string> handler_module_candidates(Profile profile, const LintOptions& options) {
  std::string program = "inference.py";
  if (profile != Profile::tensorflow) {
    if (auto it = options.env.find("SAGEMAKER_PROGRAM");
        it != options.env.end() && !it->second.empty()) {
      program = it->second;
    }
  }
  // The toolkit turns "x.py" into the module name "x"; a dotted name is a submodule.
  std::string module = program.ends_with(".py") ? program.substr(0, program.size() - 3) : program;
  std::replace(module.begin(), module.end(), '.', '/');
  return {"code/" + module + ".py", "code/" + module + "/__init__.py"};
}

}  // namespace lint_internal

using namespace lint_internal;

bool LintReport::has_findings_at(Severity threshold) const {
  return std::any_of(findings.begin(), findings.end(),
                     [&](const Finding& f) { return f.severity >= threshold; });
}

LintReport lint_tree(const ModelTree& tree, const LintOptions& options) {
  LintReport report;
  report.target = tree.display_name;
  report.source = tree.source;
  if (options.profile) {
    report.profile = *options.profile;
    report.profile_given = true;
    report.profile_reason = "given";
  } else {
    auto choice = detect_profile(tree, options);
    report.profile = choice.profile;
    report.profile_reason = std::move(choice.reason);
  }

  LintContext context(tree, options, report.profile);
  const bool handlers = imports_code_handlers(report.profile);
  for (const auto& candidate :
       handlers ? handler_module_candidates(report.profile, options) : std::vector<std::string>{}) {
    const std::string* source = tree.content(candidate);
    if (!source) continue;
    context.module_path = candidate;
    context.module = scan_handler_module(
        candidate, *source, [&tree](std::string_view path) { return tree.content(path); });
    break;
  }

  // An S3 prefix is no archive: its keys have rules of their own.
  if (tree.source != ArtifactKind::s3_prefix) run_archive_rules(context);
  if (tree.source == ArtifactKind::s3_prefix || options.prefix_layout) run_prefix_rules(context);
  run_layout_rules(context);
  if (handlers) run_handler_rules(context);
  run_container_rules(context);
  if (handlers) run_requirements_rules(context);
  run_weight_rules(context);

  report.findings = context.take_findings();
  std::stable_sort(report.findings.begin(), report.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     return std::tie(a.member, a.line, a.column, a.rule_id) <
                            std::tie(b.member, b.line, b.column, b.rule_id);
                   });
  report.deploy_ready = !report.has_findings_at(Severity::error);
  report.unsafe_input =
      std::any_of(report.findings.begin(), report.findings.end(),
                  [](const Finding& f) { return is_unsafe_input_rule(f.rule_id); });
  report.handler_module = context.module_path;
  if (context.module) report.handler_scan = std::move(*context.module);
  return report;
}

namespace {

// The finding for input that stopped the reading.
std::string_view reading_rule(bool ambiguous) {
  return ambiguous ? rule("archive-ambiguous").id() : rule("archive-unreadable").id();
}

}  // namespace

Result<LintReport> lint_artifact(const Artifact& artifact, const LintOptions& options,
                                 const CancelToken* cancel, ProgressSink* progress) {
  VisitOptions visit = lint_load_options();
  visit.cancel = cancel;
  visit.progress = progress;
  visit.keep_partial = true;
  auto tree = artifact.visit(visit);
  if (!tree && tree.error().kind == ErrorKind::bad_input)  // not even a first member
    return unreadable_input_report(artifact.name(), tree.error());
  if (!tree) return std::move(tree).error();
  LintReport report = lint_tree(*tree, options);
  if (tree->read_error) {
    // What could be read is linted; the problem that stopped the reading comes last.
    report.findings.push_back({std::string(reading_rule(tree->read_error_ambiguous)),
                               Severity::error, "", 0, 0, *tree->read_error});
    report.deploy_ready = false;
    report.unsafe_input = true;
  }
  if (report.deploy_ready)
    report.deploy_call = deploy_call_for(artifact, report, options.sdk, options.prefix_layout);
  return report;
}

LintReport unreadable_input_report(std::string target, const Error& why) {
  LintReport report;
  report.target = std::move(target);
  report.source = ArtifactKind::streamed_archive;
  report.profile_reason = "the archive could not be read";
  report.findings.push_back(
      {std::string(reading_rule(why.ambiguous)), Severity::error, "", 0, 0, why.message});
  report.deploy_ready = false;
  report.unsafe_input = true;
  return report;
}

VisitOptions lint_load_options(bool check_tensor_crcs) {
  VisitOptions options;
  options.weights.emplace();
  if (!check_tensor_crcs) options.weights->scan.crc_check_bytes = 0;
  return options;
}

}  // namespace smpack
