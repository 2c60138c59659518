// Lint before writing: build and stage refuse code that fails lint at error
// level, printing the findings on stderr.
#pragma once

#include "command.h"
#include "smpack/archive_writer.h"
#include "smpack/model_tree.h"

namespace smpack::cli {

// True when the tree has no error-level finding; otherwise prints the report to
// stderr and returns false. With an entry point, the endpoint will have
// SAGEMAKER_PROGRAM set to its name, so the lint sees that module as the handler.
bool passes_lint_gate(const ModelTree& tree, const SourceSpec& spec, const Context& context);

}  // namespace smpack::cli
