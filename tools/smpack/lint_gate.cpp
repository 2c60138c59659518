#include "lint_gate.h"

#include <iostream>

#include "output.h"
#include "smpack/lint.h"

namespace smpack::cli {

bool passes_lint_gate(const ModelTree& tree, const SourceSpec& spec, const Context& context) {
  LintOptions options;
  if (spec.entry_point) options.env["SAGEMAKER_PROGRAM"] = spec.entry_point->filename().string();
  LintReport report = lint_tree(tree, options);
  if (!report.has_findings_at(Severity::error)) return true;
  std::vector<LintReport> reports{std::move(report)};
  std::cerr << format_lint_text(reports);
  print_error(context, "lint found errors; nothing was written (--no-lint to write anyway)");
  return false;
}

}  // namespace smpack::cli
