// The rule registry: one row per rule. docs/rules.md has one heading per ID (a test checks it).
#include <algorithm>
#include <array>
#include <numeric>

#include "lint/rule_registry.h"
#include "smpack/edit_distance.h"
#include "smpack/lint.h"

namespace smpack {
namespace {

using lint_internal::kRules;

constexpr std::array kProfiles = {Profile::pytorch, Profile::huggingface, Profile::tensorflow,
                                  Profile::sklearn, Profile::xgboost,     Profile::djl_lmi,
                                  Profile::tgi,     Profile::tei,         Profile::generic};

}  // namespace

std::string_view name_of(Severity severity) {
  switch (severity) {
    case Severity::info:
      return "info";
    case Severity::warning:
      return "warning";
    case Severity::error:
      return "error";
  }
  return "error";
}

std::optional<Severity> parse_severity(std::string_view name) {
  for (auto severity : {Severity::info, Severity::warning, Severity::error}) {
    if (name_of(severity) == name) return severity;
  }
  return std::nullopt;
}

std::string_view name_of(Profile profile) {
  switch (profile) {
    case Profile::pytorch:
      return "pytorch";
    case Profile::huggingface:
      return "huggingface";
    case Profile::tensorflow:
      return "tensorflow";
    case Profile::sklearn:
      return "sklearn";
    case Profile::xgboost:
      return "xgboost";
    case Profile::djl_lmi:
      return "djl-lmi";
    case Profile::tgi:
      return "tgi";
    case Profile::tei:
      return "tei";
    case Profile::generic:
      return "generic";
  }
  return "generic";
}

std::optional<Profile> parse_profile(std::string_view name) {
  for (auto profile : kProfiles) {
    if (name_of(profile) == name) return profile;
  }
  return std::nullopt;
}

std::span<const Profile> all_profiles() {
  return kProfiles;
}

std::span<const RuleInfo> lint_rules() {
  return kRules;
}

const RuleInfo* find_rule(std::string_view id) {
  for (const auto& rule : kRules) {
    if (rule.id == id) return &rule;
  }
  return nullptr;
}

bool is_unsafe_input_rule(std::string_view id) {
  const RuleInfo* rule = find_rule(id);
  return rule && id.starts_with("archive-") && rule->severity == Severity::error;
}

std::string rule_help_path(std::string_view id) {
  return "docs/rules.md#" + std::string(id);
}

Result<void> validate_rule_ids(const std::set<std::string, std::less<>>& ids) {
  for (const auto& id : ids) {
    if (find_rule(id)) continue;
    const RuleInfo* closest = &kRules.front();
    for (const auto& rule : kRules) {
      if (edit_distance(id, rule.id) < edit_distance(id, closest->id)) closest = &rule;
    }
    std::string message = "unknown rule ID '" + id + "'";
    if (edit_distance(id, closest->id) <= std::max<std::size_t>(3, id.size() / 3)) {
      message += "; did you mean '" + std::string(closest->id) + "'?";
    }
    return Error::usage(message + " (docs/rules.md lists them)");
  }
  return {};
}

}  // namespace smpack
