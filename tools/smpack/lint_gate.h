// How build, stage and add-code report a write the library's lint gate refused.
#pragma once

#include "command.h"
#include "smpack/lint.h"

namespace smpack::cli {

// Prints the gate's findings and the refusal on stderr; the command's exit code.
int report_gate_refusal(const LintReport& report, const Context& context);

}  // namespace smpack::cli
