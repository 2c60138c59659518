#include "smpack/lint_gate.h"

#include <algorithm>

#include "io/file_io.h"
#include "lint/lint_rules.h"
#include "smpack/digest.h"

namespace smpack {

Result<ModelTree> with_code(ModelTree tree, const SourceSpec& code) {
  if (!code.has_code()) return tree;
  auto sources = collect_code_sources(code);
  if (!sources) return std::move(sources).error();
  const auto replaced = [&](std::string_view path) {
    return replaced_by_code(path, code, *sources);
  };
  std::erase_if(tree.members, [&](const Member& m) { return replaced(m.path); });
  std::erase_if(tree.contents, [&](const auto& item) { return replaced(item.first); });
  std::erase_if(tree.weights, [&](const WeightFileReport& w) { return replaced(w.member); });
  for (const auto& s : *sources) {
    Member member;
    member.path = member.stored_path = s.archive_path;
    member.type = s.type;
    member.mode = s.mode;
    member.size = s.size;
    if (s.type == EntryType::file) {
      auto bytes = read_file_from(s.disk_path, 0);
      if (!bytes) return std::move(bytes).error();
      std::string content(reinterpret_cast<const char*>(bytes->data()), bytes->size());
      member.sha256 = sha256_hex(content);
      tree.contents[s.archive_path] = std::move(content);
    }
    tree.members.push_back(std::move(member));
  }
  return tree;
}

LintReport lint_gate(const ModelTree& after, const SourceSpec& code) {
  LintOptions options;
  if (code.entry_point) options.env["SAGEMAKER_PROGRAM"] = code.entry_point->filename().string();
  LintReport report = lint_tree(after, options);
  const bool holds_code = std::any_of(after.members.begin(), after.members.end(),
                                      [](const Member& m) { return is_code_path(m.path); });
  if (!holds_code) {
    std::erase_if(report.findings, [](const Finding& f) {
      return !f.rule_id.starts_with("archive-") && !f.rule_id.starts_with("weights-") &&
             f.rule_id != "layout-empty";
    });
    report.deploy_ready = !report.has_findings_at(Severity::error);
  }
  return report;
}

VisitOptions lint_gate_visit(const CancelToken* cancel) {
  VisitOptions visit = lint_load_options(/*check_tensor_crcs=*/false);
  visit.cancel = cancel;
  return visit;
}

Result<LintReport> lint_gate(const Artifact& before, const SourceSpec& code,
                             const CancelToken* cancel, bool as_archived,
                             const std::optional<std::string>& left_out) {
  auto tree = before.visit(lint_gate_visit(cancel));
  if (!tree) return std::move(tree).error();
  return lint_gate(before, std::move(*tree), code, as_archived, left_out);
}

Result<LintReport> lint_gate(const Artifact& before, ModelTree tree, const SourceSpec& code,
                             bool as_archived, const std::optional<std::string>& left_out) {
  // A directory is judged as it will be archived: without its own output, and without
  // what the excludes leave out (or anything under it).
  if (as_archived && before.kind() == ArtifactKind::directory) {
    const auto dropped = [&](std::string_view path) {
      if (left_out && path == *left_out) return true;
      std::string_view prefix = path;
      for (;;) {
        if (is_excluded(prefix, code)) return true;
        const auto slash = prefix.rfind('/');
        if (slash == std::string_view::npos) return false;
        prefix = prefix.substr(0, slash);
      }
    };
    std::erase_if(tree.members, [&](const Member& m) { return dropped(m.path); });
    std::erase_if(tree.contents, [&](const auto& item) { return dropped(item.first); });
    std::erase_if(tree.weights, [&](const WeightFileReport& w) { return dropped(w.member); });
  }
  // Code added at the root of an archive whose every member is under one folder lands
  // beside the model rather than with it: the merged tree no longer looks wrapped, so
  // the archive is judged as it was.
  std::optional<std::string> wrapped;
  if (!is_layout(before.kind()) && code.has_code()) wrapped = lint_internal::wrapping_folder(tree);
  auto after = with_code(std::move(tree), code);
  if (!after) return std::move(after).error();
  LintReport report = lint_gate(*after, code);
  if (wrapped) {
    report.findings.insert(
        report.findings.begin(),
        {std::string(lint_internal::rule("layout-wrapped").id()), Severity::error, "", 0, 0,
         "every member of " + before.name() + " is under '" + *wrapped +
             "/': code/ added at its root would sit beside the model, and SageMaker would "
             "find the weights at /opt/ml/model/" +
             *wrapped +
             "/, not at /opt/ml/model; rebuild it from inside the folder first (tar -C " +
             *wrapped +
             " -czf model.tar.gz ., or smpack build on the folder), then add the "
             "code"});
    report.deploy_ready = false;
  }
  return report;
}

}  // namespace smpack
