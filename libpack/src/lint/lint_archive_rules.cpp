// Archive-safety rules: members that a safe extractor refuses or changes (the same
// judgement `extract` makes, member_safety.h), and duplicates. Each case has its own ID.
#include <cstdio>
#include <map>
#include <set>

#include "archive/member_safety.h"
#include "lint/lint_rules.h"
#include "smpack/utf8.h"

namespace smpack::lint_internal {
namespace {

RuleId rule_for(UnsafeMember kind) {
  switch (kind) {
    case UnsafeMember::bad_name:
      return rule("archive-bad-name");
    case UnsafeMember::absolute_path:
      return rule("archive-absolute-path");
    case UnsafeMember::parent_ref:
      return rule("archive-path-traversal");
    case UnsafeMember::link_escape:
      return rule("archive-link-escape");
    case UnsafeMember::write_through_link:
      return rule("archive-write-through-link");
    case UnsafeMember::special_file:
      return rule("archive-special-file");
    case UnsafeMember::none:
      break;
  }
  return rule("archive-bad-name");  // not reached: callers ask only for unsafe members
}

bool is_utf8(std::string_view text) {
  return first_invalid_utf8(text) == std::string_view::npos;
}

constexpr std::string_view kRefused =
    "; the SDK's safe extraction (tarfile filter='data') and smpack extract refuse it, so every "
    "repack of this archive fails";

void check_members(LintContext& context) {
  MemberJudge judge;  // extract's judgement, with the symlinks of the members before
  for (const auto& member : context.tree.members) {
    const std::string& named = member.path.empty() ? member.stored_path : member.path;
    auto safety = judge.judge({member.path, member.path_problem}, member.type, member.link_target);
    if (safety.kind != UnsafeMember::none) {
      context.report(rule_for(safety.kind), named, 0, 0,
                     "'" + member.stored_path + "': " + safety.reason + std::string(kRefused));
    }
    if (!member.reader_warning.empty()) {
      context.report(rule("archive-reader-warning"), named, 0, 0,
                     "'" + member.stored_path + "': libarchive warned (\"" + member.reader_warning +
                         "\") and read on; GNU tar or Python tarfile may read this header "
                         "differently");
    }
    if (!is_utf8(member.stored_path) || !is_utf8(member.link_target)) {
      context.report(rule("archive-name-encoding"), named, 0, 0,
                     "'" + member.stored_path +
                         "' is not valid UTF-8: JSON, SARIF and manifests can only show it with "
                         "U+FFFD replacement characters, and S3 keys and non-UTF-8 locales name "
                         "it differently");
    }
    if (has_special_mode_bits(member.mode) &&
        (member.type == EntryType::file || member.type == EntryType::directory)) {
      char octal[8];
      std::snprintf(octal, sizeof octal, "%04o", member.mode & 07777u);
      context.report(rule("archive-setuid"), named, 0, 0,
                     "'" + member.stored_path + "' has mode " + octal +
                         " (setuid, setgid or sticky); extractors drop those bits, so what is "
                         "served differs from what was packed");
    }
  }
}

void check_duplicates(LintContext& context) {
  std::map<std::string_view, int> seen;
  for (const auto& member : context.tree.members) {
    if (member.path.empty() || member.type == EntryType::directory) continue;
    if (++seen[member.path] == 2) {
      context.report(rule("archive-duplicate-member"), member.path, 0, 0,
                     "'" + member.path +
                         "' is stored more than once; extraction keeps the last copy, while a "
                         "reader that stops at the first sees different bytes");
    }
  }
}

}  // namespace

void run_archive_rules(LintContext& context) {
  check_members(context);
  check_duplicates(context);
}

}  // namespace smpack::lint_internal
