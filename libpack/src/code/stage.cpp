#include "smpack/stage.h"

#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "smpack/artifact.h"
#include "smpack/digest.h"
#include "smpack/lint_gate.h"
#include "smpack/repack.h"
#include "util/json_text.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

// code/ path -> SHA-256 of each regular file under code/ of `members`.
std::map<std::string, std::string> code_digests(const std::vector<Member>& members) {
  std::map<std::string, std::string> files;
  for (const auto& m : members) {
    if (m.type == EntryType::file && is_code_path(m.path)) files[m.path] = m.sha256;
  }
  return files;
}

// The same for what is on disk under `code_dir` now (nothing when it does not exist).
Result<std::map<std::string, std::string>> existing_code(const fs::path& code_dir) {
  std::error_code ec;
  if (!fs::exists(code_dir, ec)) return std::map<std::string, std::string>();
  auto artifact = Artifact::open(code_dir);
  if (!artifact) return std::move(artifact).error();
  auto manifest = artifact->manifest();
  if (!manifest) return std::move(manifest).error();
  std::map<std::string, std::string> files;
  for (const auto& e : manifest->entries) {
    if (e.type == EntryType::file) files["code/" + e.path] = e.sha256;
  }
  return files;
}

}  // namespace

Result<StageResult> stage_code(const fs::path& model_dir, const SourceSpec& code,
                               const StageOptions& options) {
  if (!code.has_code())
    return Error::usage("no code given").with_hint("code", "to name the code folder");
  std::error_code ec;
  if (!fs::exists(model_dir, ec)) return Error::io(model_dir.string() + ": no such directory");
  if (!fs::is_directory(model_dir, ec))
    return Error::usage(model_dir.string() + ": not a directory");
  auto sources = collect_code_sources(code);
  if (!sources) return std::move(sources).error();
  StageResult result;
  const std::string program =
      code.entry_point ? code.entry_point->filename().string() : "inference.py";
  {
    // The model as it will be: the gate lints it, and its profile picks the deploy call.
    auto artifact = Artifact::open(model_dir);
    if (!artifact) return std::move(artifact).error();
    auto report = lint_gate(*artifact, code, options.cancel);
    if (!report) return std::move(report).error();
    result.deploy_call = no_repack_deploy_call(options.sdk, framework_for(report->profile),
                                               program_environment(program));
    if (options.lint && !report->deploy_ready) {
      result.refused = std::move(*report);
      return result;
    }
  }
  const fs::path target = model_dir / "code";
  auto existing = existing_code(target);
  if (!existing) return std::move(existing).error();
  const auto& before = *existing;
  // An entry point or requirements file alone goes over the code/ there.
  std::set<std::string> given;
  for (const auto& s : *sources) given.insert(s.archive_path);
  if (!code.replaces_code() && fs::exists(target, ec)) {
    SourceSpec there;  // kept whole, as the SDK keeps it
    there.code_dir = target;
    there.symlinks = code.symlinks;
    there.default_excludes = false;
    auto kept = collect_code_sources(there);
    if (!kept) return std::move(kept).error();
    sources = apply_code(std::move(*kept), std::move(*sources), code);
  }
  auto staged = with_code(ModelTree{}, code);
  if (!staged) return std::move(staged).error();
  auto after = code_digests(staged->members);
  if (!code.replaces_code()) {
    for (const auto& [path, sha] : before) after.emplace(path, sha);  // kept, unless replaced
  }
  if (fs::exists(target, ec) && before == after) {
    result.unchanged = true;
    return result;
  }
  std::vector<std::string> overwritten;
  for (const auto& [path, sha] : before) {
    if (!after.count(path)) result.removed.push_back(path);
    if (after.count(path) && after.at(path) != sha) overwritten.push_back(path);
  }
  // Adding files to code/ is safe; changing one is not, without --force.
  const bool changes_files = code.replaces_code() || !overwritten.empty();
  if (changes_files && fs::exists(target, ec) &&
      options.existing == ExistingCode::refuse_if_different) {
    return Error::usage(target.string() + " already exists with different content" +
                        (!result.removed.empty()
                             ? " (replacing it removes " + std::to_string(result.removed.size()) +
                                   " file(s), e.g. " + result.removed.front() + ")"
                         : overwritten.empty() ? std::string()
                                               : " (" + overwritten.front() + " would change)"))
        .with_hint("force", "to replace it");
  }
  const fs::path staging = model_dir / ".code.smpack-new";
  const fs::path retired = model_dir / ".code.smpack-old";
  fs::remove_all(staging, ec);
  fs::remove_all(retired, ec);
  for (const auto& s : *sources) {
    fs::path dest = staging / fs::path(s.archive_path).lexically_relative("code");
    if (s.type == EntryType::directory) {
      fs::create_directories(dest, ec);
    } else {
      fs::create_directories(dest.parent_path(), ec);
      fs::copy_file(s.disk_path, dest, fs::copy_options::overwrite_existing, ec);
      if (!ec) fs::permissions(dest, static_cast<fs::perms>(s.mode), ec);
      (given.count(s.archive_path) ? result.written : result.kept).push_back(s.archive_path);
    }
    if (ec) {
      fs::remove_all(staging, ec);
      return Error::io(dest.string() + ": cannot write: " + ec.message());
    }
  }
  if (fs::exists(target, ec)) fs::rename(target, retired, ec);
  if (ec) return Error::io(target.string() + ": cannot move aside: " + ec.message());
  fs::rename(staging, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::rename(retired, target, ignored);
    return Error::io(target.string() + ": cannot put the new code in place: " + ec.message());
  }
  fs::remove_all(retired, ec);
  return result;
}

std::string stage_json(const std::string& model_dir, const StageResult& result) {
  nlohmann::ordered_json doc = {{"model_dir", model_dir},    {"unchanged", result.unchanged},
                                {"written", result.written}, {"kept", result.kept},
                                {"removed", result.removed}, {"deploy_call", result.deploy_call}};
  return json_text(doc);
}

}  // namespace smpack
