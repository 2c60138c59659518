// Internals of the lint engine shared by the rule families (lint_*_rules.cpp).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "lint/rule_registry.h"
#include "smpack/handler_scan.h"
#include "smpack/lint.h"
#include "smpack/model_tree.h"

namespace smpack::lint_internal {

struct ProfileChoice {
  Profile profile = Profile::generic;
  std::string reason;
};

// Picks the profile from the contents and the endpoint environment (lint_profile.cpp).
ProfileChoice detect_profile(const ModelTree& tree, const LintOptions& options);

// config.json at the root: nullopt when absent or not a JSON object, else its "architectures"
// (empty when it has none).
std::optional<std::vector<std::string>> config_architectures(const ModelTree& tree);

// Where the container imports the handler module from: code/<SAGEMAKER_PROGRAM> (default
// inference.py; TF Serving always code/inference.py). Also a package's __init__.py.
std::vector<std::string> handler_module_candidates(Profile profile, const LintOptions& options);

class LintContext {
 public:
  LintContext(const ModelTree& tree, const LintOptions& options, Profile profile);

  const ModelTree& tree;
  const LintOptions& options;
  const Profile profile;
  // The handler module found in the tree ("" when none) and its scan.
  std::string module_path;
  std::optional<ModuleScan> module;

  // Adds a finding of `rule` at its registry severity, unless the rule is disabled.
  void report(RuleId rule, std::string member, int line, int column, std::string message);
  // The same at `severity` instead of the rule's own: a case of the rule that is sure to fail.
  void report(RuleId rule, Severity severity, std::string member, std::string message);
  bool enabled(RuleId rule) const;
  std::string env(std::string_view key) const;  // "" when unset
  // The module's final binding of `name` when it exists and is not deleted.
  const HandlerBinding* binding(std::string_view name) const;

  std::vector<Finding> take_findings() { return std::move(findings_); }

 private:
  std::vector<Finding> findings_;
};

// The one top-level folder every member is under (nested, not code/ nor TF Serving's
// version folder), as `tar czf model.tar.gz model/` makes it; nullopt otherwise.
std::optional<std::string> wrapping_folder(const ModelTree& tree);

void run_archive_rules(LintContext& context);
void run_layout_rules(LintContext& context);
void run_prefix_rules(LintContext& context);
void run_handler_rules(LintContext& context);
void run_container_rules(LintContext& context);
void run_requirements_rules(LintContext& context);
void run_weight_rules(LintContext& context);

// The LLM servers (lint_llm_server_rules.cpp): LMI's serving.properties and model files,
// TGI's and TEI's model files, and the shard index every Hugging Face loader reads.
void check_djl_lmi(LintContext& context);
void check_text_server(LintContext& context);  // tgi, tei
void check_shard_index(LintContext& context);
// Whether the profile's container imports code/ (the toolkits) or ignores it (the LLM
// servers, which run no handler module of code/).
bool imports_code_handlers(Profile profile);

// The weight report of `member`, nullptr when it is no weight file or was not scanned.
const WeightFileReport* weight_report(const ModelTree& tree, std::string_view member);

// Shared facts about member names.
bool is_regular_file(const Member& member);
bool at_root(std::string_view path);                // no "/" in the normalised path
std::string_view file_name(std::string_view path);  // after the last "/"
std::string_view extension_of(
    std::string_view path);                  // ".pt", "" when none (lower case not applied)
bool is_weight_file(std::string_view path);  // .pt .pth .bin .safetensors .onnx .h5 ...
// "a", "b" and "c" -> "'a', 'b' and 'c'" (at most `limit` names, then "and N more").
std::string quoted_list(const std::vector<std::string>& names, std::size_t limit = 5);

}  // namespace smpack::lint_internal
