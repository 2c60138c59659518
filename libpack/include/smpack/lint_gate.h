// The gate that build, stage and add-code pass before they write, in both clients: the
// model is linted as it will be, and nothing is written when lint finds an error.
#pragma once

#include <optional>
#include <string>

#include "smpack/archive_writer.h"
#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/lint.h"
#include "smpack/model_tree.h"
#include "smpack/result.h"

namespace smpack {

// `tree` with its code/ replaced by the code of `code` (members and contents); `tree`
// itself when `code` names no code.
Result<ModelTree> with_code(ModelTree tree, const SourceSpec& code);

// Lints `after`, with the endpoint's SAGEMAKER_PROGRAM set to the entry point's name
// when `code` names one. Without code/ (weights first, code added later) only the
// archive and weight rules and layout-empty apply: a weights-only archive is a legitimate
// step, an empty one or a dangerous pickle never is. The write is refused when the report is not
// deploy_ready.
LintReport lint_gate(const ModelTree& after, const SourceSpec& code);

// `before` (weight files by structure, not every tensor's CRC) with `code` in it, through
// lint_gate. `as_archived` (build): a directory judged as it will be archived, without
// the member `left_out` (the archive being written into it) and what `code`'s excludes
// leave out.
Result<LintReport> lint_gate(const Artifact& before, const SourceSpec& code,
                             const CancelToken* cancel = nullptr, bool as_archived = false,
                             const std::optional<std::string>& left_out = std::nullopt);

// What the gate reads of an artifact, for a caller that visits it in a pass of its own
// (add-code's splice scan watches the same pass), and the gate on what that visit read.
VisitOptions lint_gate_visit(const CancelToken* cancel);
Result<LintReport> lint_gate(const Artifact& before, ModelTree tree, const SourceSpec& code,
                             bool as_archived = false,
                             const std::optional<std::string>& left_out = std::nullopt);

}  // namespace smpack
