// Lint output: text for people and CI logs, JSON for scripts, SARIF 2.1.0 for code scanning.
#include <nlohmann/json.hpp>

#include "lint/lint_rules.h"
#include "smpack/escape.h"
#include "util/json_text.h"
#include "util/uri_encoding.h"

namespace smpack {
namespace {

using Json = nlohmann::ordered_json;

std::string shown_member(const LintReport& report, const Finding& finding) {
  return finding.member.empty() ? report.target : finding.member;
}

std::string_view sarif_level(Severity severity) {
  switch (severity) {
    case Severity::error:
      return "error";
    case Severity::warning:
      return "warning";
    case Severity::info:
      return "note";
  }
  return "warning";
}

// A relative or absolute path as a URI reference.
std::string path_to_uri(std::string_view path) {
  std::string out = uri_encode(path, /*keep_slash=*/true);
  return out.empty() ? "." : out;
}

std::string count_text(std::size_t n, std::string_view word) {
  return std::to_string(n) + " " + std::string(word) + (n == 1 ? "" : "s");
}

Json rule_json(const RuleInfo& rule) {
  return {{"id", rule.id},
          {"severity", name_of(rule.severity)},
          {"summary", rule.summary},
          {"help", rule_help_path(rule.id)}};
}

}  // namespace

std::string format_lint_text(std::span<const LintReport> reports) {
  std::string out;
  for (const auto& report : reports) {
    std::size_t counts[3] = {0, 0, 0};
    for (const auto& finding : report.findings) {
      ++counts[static_cast<int>(finding.severity)];
      out += escape_for_terminal(shown_member(report, finding)) + ":";
      if (finding.line > 0) out += std::to_string(finding.line) + ":";
      out += " " + std::string(name_of(finding.severity)) + ": " +
             escape_for_terminal(finding.message) + " [" + finding.rule_id + "]\n";
    }
    if (!report.deploy_call.empty()) {
      out += escape_for_terminal(report.target) + ": deploy it with no repack:\n";
      std::size_t at = 0;
      while (at < report.deploy_call.size()) {
        const auto end = std::min(report.deploy_call.find('\n', at), report.deploy_call.size());
        out += "    " + escape_for_terminal(report.deploy_call.substr(at, end - at)) + "\n";
        at = end + 1;
      }
    }
    out += escape_for_terminal(report.target) + ": profile " +
           std::string(name_of(report.profile)) + " (" +
           escape_for_terminal(report.profile_reason) + "); " + count_text(counts[2], "error") +
           ", " + count_text(counts[1], "warning") + ", " + count_text(counts[0], "info") + "; " +
           (report.deploy_ready ? "deploy-ready" : "not deploy-ready") + "\n";
  }
  return out;
}

std::string format_lint_json(std::span<const LintReport> reports) {
  Json list = Json::array();
  for (const auto& report : reports) {
    Json findings = Json::array();
    for (const auto& f : report.findings) {
      findings.push_back({{"rule", f.rule_id},
                          {"severity", name_of(f.severity)},
                          {"member", f.member},
                          {"line", f.line},
                          {"column", f.column},
                          {"message", f.message}});
    }
    list.push_back(
        {{"target", report.target},
         {"profile", name_of(report.profile)},
         {"profile_given", report.profile_given},
         {"profile_reason", report.profile_reason},
         {"deploy_ready", report.deploy_ready},
         {"deploy_call", report.deploy_call.empty() ? Json(nullptr) : Json(report.deploy_call)},
         {"findings", std::move(findings)}});
  }
  return json_text(Json{{"reports", std::move(list)}});
}

std::string format_lint_sarif(std::span<const LintReport> reports, std::string_view tool_version) {
  const auto rules = lint_rules();
  Json rule_list = Json::array();
  for (const auto& rule : rules) {
    const std::string help = "See " + rule_help_path(rule.id) +
                             " for a bad and a good example, why it matters and the source.";
    rule_list.push_back(
        {{"id", rule.id},
         {"shortDescription", {{"text", rule.summary}}},
         {"fullDescription", {{"text", rule.summary}}},
         {"help", {{"text", help}}},
         {"defaultConfiguration", {{"level", sarif_level(rule.severity)}}},
         {"properties", {{"tags", Json::array({rule.id.substr(0, rule.id.find('-'))})}}}});
  }
  Json results = Json::array();
  Json targets = Json::array();
  for (const auto& report : reports) {
    const bool directory = report.source == ArtifactKind::directory;
    for (const auto& f : report.findings) {
      std::size_t index = 0;
      while (index < rules.size() && rules[index].id != f.rule_id) ++index;
      Json location;
      std::string text = f.message;
      if (directory) {
        const std::string path = f.member.empty() ? report.target : report.target + "/" + f.member;
        location["physicalLocation"]["artifactLocation"]["uri"] = path_to_uri(path);
        if (f.line > 0) {
          location["physicalLocation"]["region"]["startLine"] = f.line;
          if (f.column > 0) location["physicalLocation"]["region"]["startColumn"] = f.column;
        }
      } else {
        // Lines inside a member are not lines of the archive: name the member in the text.
        location["physicalLocation"]["artifactLocation"]["uri"] = path_to_uri(report.target);
        if (!f.member.empty()) {
          text =
              f.member + (f.line > 0 ? ":" + std::to_string(f.line) : std::string()) + ": " + text;
          location["logicalLocations"] = Json::array({{{"fullyQualifiedName", f.member}}});
        }
      }
      results.push_back({{"ruleId", f.rule_id},
                         {"ruleIndex", index},
                         {"level", sarif_level(f.severity)},
                         {"message", {{"text", text}}},
                         {"locations", Json::array({std::move(location)})}});
    }
    targets.push_back({{"target", report.target},
                       {"profile", name_of(report.profile)},
                       {"profileReason", report.profile_reason},
                       {"deployReady", report.deploy_ready}});
  }
  Json run = {
      {"tool",
       {{"driver",
         {{"name", "smpack"}, {"version", tool_version}, {"rules", std::move(rule_list)}}}}},
      {"results", std::move(results)},
      {"properties", {{"targets", std::move(targets)}}}};
  return json_text(Json{{"$schema", "https://json.schemastore.org/sarif-2.1.0.json"},
                        {"version", "2.1.0"},
                        {"runs", Json::array({std::move(run)})}});
}

std::string format_rule_list_text() {
  std::string out;
  for (const auto& rule : lint_rules()) {
    std::string id(rule.id);
    id.resize(std::max<std::size_t>(id.size(), 34), ' ');
    std::string severity(name_of(rule.severity));
    severity.resize(8, ' ');
    out += id + " " + severity + " " + std::string(rule.summary) + "\n";
  }
  return out;
}

std::string format_rule_list_json() {
  Json list = Json::array();
  for (const auto& rule : lint_rules()) list.push_back(rule_json(rule));
  return json_text(Json{{"rules", std::move(list)}});
}

}  // namespace smpack
