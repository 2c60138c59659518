// The lint engine: what would make a SageMaker endpoint fail or silently misbehave, judged
// from the files of a model artifact alone (docs/rules.md lists every rule and its source).
//
// lint_tree() takes a ModelTree (an archive or a directory, see model_tree.h), picks the
// serving profile (from --profile or from the contents), runs the rules of that profile and
// returns the findings as data. It never fails as a call, never prints, and reads no
// environment: the endpoint's environment (SAGEMAKER_PROGRAM, HF_TASK, ...) comes in
// LintOptions::env. Thread-safe: it only reads its arguments.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/handler_scan.h"
#include "smpack/model_tree.h"
#include "smpack/result.h"
#include "smpack/sdk_version.h"

namespace smpack {

enum class Severity { info, warning, error };  // ordered: info < warning < error

std::string_view name_of(Severity severity);
std::optional<Severity> parse_severity(std::string_view name);

// What serves the model; the rules differ per container (sagemaker-contract.md).
// The serving containers lint knows: the framework toolkits (which import code/inference.py),
// and the LLM servers that load a Hugging Face layout themselves: DJL Serving's LMI
// (serving.properties), text-generation-inference and text-embeddings-inference.
enum class Profile {
  pytorch,
  huggingface,
  tensorflow,
  sklearn,
  xgboost,
  djl_lmi,
  tgi,
  tei,
  generic
};

std::string_view name_of(Profile profile);
std::optional<Profile> parse_profile(std::string_view name);
std::span<const Profile> all_profiles();

// One entry of the rule registry: the data behind --list-rules, --disable and SARIF metadata.
struct RuleInfo {
  std::string_view id;       // stable, kebab-case, e.g. "handler-arity"
  Severity severity;         // default severity of its findings
  std::string_view summary;  // one line
};

std::span<const RuleInfo> lint_rules();
// nullptr when `id` names no rule.
const RuleInfo* find_rule(std::string_view id);
// The archive-safety errors (archive-*): their findings make the input unsafe (exit 3).
bool is_unsafe_input_rule(std::string_view id);
// Where the rule is documented, relative to the repository root: "docs/rules.md#<id>".
std::string rule_help_path(std::string_view id);

// Usage error naming the first unknown ID, with the closest known ID as a suggestion.
Result<void> validate_rule_ids(const std::set<std::string, std::less<>>& ids);

struct Finding {
  std::string rule_id;
  Severity severity = Severity::error;
  std::string member;  // normalised member path; "" for the archive or directory itself
  int line = 0;        // 1-based; 0 when the finding is about the whole member
  int column = 0;      // 1-based; 0 when unknown
  std::string message;
};

struct LintOptions {
  std::optional<Profile> profile;                       // nullopt: detect from the contents
  std::map<std::string, std::string, std::less<>> env;  // the endpoint's environment
  std::set<std::string, std::less<>> disabled;          // rule IDs not to run
  // Judge a directory as the files of an S3 prefix (S3ModelDataSource, CompressionType
  // None) rather than the contents of an archive; an S3 prefix always is.
  bool prefix_layout = false;
  SdkVersion sdk = SdkVersion::v3;  // of LintReport::deploy_call
};

struct LintReport {
  std::string target;  // ModelTree::display_name
  ArtifactKind source = ArtifactKind::directory;
  Profile profile = Profile::generic;
  bool profile_given = false;     // from LintOptions::profile
  std::string profile_reason;     // e.g. "config.json has architectures; code/inference.py imports
                                  // transformers"
  std::vector<Finding> findings;  // sorted by member, line, column, rule
  bool deploy_ready = true;       // no finding of severity error
  // A finding of an archive-safety error (is_unsafe_input_rule): the input is unsafe.
  bool unsafe_input = false;
  // The handler module the container imports ("" when there is none: its default
  // handlers run) and what it binds at import.
  std::string handler_module;
  ModuleScan handler_scan;
  // lint_artifact of a deploy-ready artifact: the call that deploys it without a repack.
  std::string deploy_call;

  // Whether any finding is at or above `threshold`.
  bool has_findings_at(Severity threshold) const;
};

LintReport lint_tree(const ModelTree& tree, const LintOptions& options);

// Reads what lint needs of `artifact` (lint_load_options) and lints it. An archive
// that cannot be read is still a report (unreadable_input_report), so that JSON and
// SARIF carry the reason; other errors (io, interrupted) are errors.
Result<LintReport> lint_artifact(const Artifact& artifact, const LintOptions& options,
                                 const CancelToken* cancel = nullptr,
                                 ProgressSink* progress = nullptr);

// The report for an archive that could not be read at all (`why` from the reader,
// naming the member): one archive-unreadable finding (archive-ambiguous when the readers
// users have would read it differently), unsafe_input set.
LintReport unreadable_input_report(std::string target, const Error& why);

// What lint reads of a model: the default small files and every weight file.
// Without tensor CRCs only the structure and code of weight files is checked (pickles,
// headers): for `info` and the build gate, which must not read every weight twice.
VisitOptions lint_load_options(bool check_tensor_crcs = true);

// Output formats. Each returns the complete text to write to stdout.
// text: "member:line: severity: message [ID]" per finding, then one summary line per report.
std::string format_lint_text(std::span<const LintReport> reports);
// json: {"reports": [{target, profile, profile_reason, deploy_ready, findings: [...]}, ...]}.
std::string format_lint_json(std::span<const LintReport> reports);
// SARIF 2.1.0: one run of tool "smpack" with the whole rule registry as metadata.
std::string format_lint_sarif(std::span<const LintReport> reports, std::string_view tool_version);
// The rule registry: text (one rule a line) or JSON ({"rules": [...]}).
std::string format_rule_list_text();
std::string format_rule_list_json();

}  // namespace smpack
