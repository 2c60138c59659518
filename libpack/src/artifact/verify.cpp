#include "smpack/verify.h"

#include <map>
#include <nlohmann/json.hpp>

#include "smpack/digest.h"
#include "util/json_text.h"

namespace smpack {

std::vector<std::string> compare_manifests(const Manifest& actual, const Manifest& expected) {
  std::vector<std::string> problems;
  std::map<std::string, const ManifestEntry*> seen;
  for (const auto& e : actual.entries) seen[e.path] = &e;
  for (const auto& want : expected.entries) {
    auto it = seen.find(want.path);
    if (it == seen.end()) {
      problems.push_back("'" + want.path + "': missing from the archive");
      continue;
    }
    const ManifestEntry& got = *it->second;
    if (got.size != want.size || got.sha256 != want.sha256) {
      problems.push_back("'" + want.path + "': content differs from the manifest");
    } else if (got.mode != want.mode || got.type != want.type) {
      problems.push_back("'" + want.path + "': type or mode differs from the manifest");
    }
    seen.erase(it);
  }
  for (const auto& [path, entry] : seen) problems.push_back("'" + path + "': not in the manifest");
  return problems;
}

Result<VerifyReport> verify_artifact(const Artifact& artifact, const VerifyOptions& options) {
  if (is_layout(artifact.kind())) {
    return Error::usage(
        artifact.name() +
        " is a directory or S3 prefix; verify checks archives (lint checks directories)");
  }
  VisitOptions visit;
  visit.keep_content = nullptr;
  visit.hash_members = options.expected.has_value();
  visit.check_index = true;
  visit.cancel = options.cancel;
  visit.progress = options.progress;
  auto tree = artifact.visit(visit);
  if (!tree) return std::move(tree).error();
  const ArchiveFacts& facts = *tree->archive;
  if (facts.container != ContainerKind::gzip && facts.container != ContainerKind::plain_tar) {
    return Error::bad_input(artifact.name() + " is " + std::string(describe(facts.container)) +
                            " (" + std::string(name_of(facts.container)) +
                            "), not gzip: SageMaker needs a gzip-compressed tar");
  }
  VerifyReport report;
  report.artifact = artifact.name();
  report.members = tree->members.size();
  report.gzip_members = facts.gzip_members;
  report.smpack_index = facts.index_version.has_value();
  report.problems = facts.index_problems;
  const std::string manifest_sha = options.expected ? options.expected->archive_sha256 : "";
  if (options.sha256 || !manifest_sha.empty()) {
    auto digests = digest_bytes(*artifact.bytes(), 0, options.cancel);
    if (!digests) return std::move(digests).error();
    report.sha256_checked = true;
    if (options.sha256 && digests->sha256 != *options.sha256) {
      report.problems.push_back("archive SHA-256 is " + digests->sha256 + ", expected " +
                                *options.sha256);
    }
    if (!manifest_sha.empty() && digests->sha256 != manifest_sha) {
      report.problems.push_back("archive SHA-256 is " + digests->sha256 + ", the manifest says " +
                                manifest_sha);
    }
  }
  if (options.expected) {
    report.manifest_checked = true;
    auto differences = compare_manifests(tree->manifest(), *options.expected);
    report.problems.insert(report.problems.end(), differences.begin(), differences.end());
  }
  report.ok = report.problems.empty();
  return report;
}

std::string verify_json(const VerifyReport& report) {
  nlohmann::ordered_json doc = {{"archive", report.artifact},
                                {"ok", report.ok},
                                {"members", report.members},
                                {"gzip_members", report.gzip_members},
                                {"smpack_index", report.smpack_index},
                                {"manifest_checked", report.manifest_checked},
                                {"sha256_checked", report.sha256_checked},
                                {"problems", report.problems}};
  return json_text(doc);
}

}  // namespace smpack
