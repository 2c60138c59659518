#include "lint_gate.h"

#include <iostream>

#include "output.h"

namespace smpack::cli {

int report_gate_refusal(const LintReport& report, const Context& context) {
  const std::vector<LintReport> reports{report};
  std::cerr << format_lint_text(reports);
  print_error(context, "lint found errors; nothing was written (--no-lint to write anyway)");
  return report.unsafe_input ? kExitBadInput : kExitFindings;
}

}  // namespace smpack::cli
