#include "smpack/stage.h"

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "io/file_io.h"
#include "smpack/artifact.h"
#include "smpack/digest.h"
#include "smpack/repack.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

Result<std::string> slurp(const fs::path& path) {
  auto bytes = read_file_from(path, 0);
  if (!bytes) return std::move(bytes).error();
  return std::string(reinterpret_cast<const char*>(bytes->data()), bytes->size());
}

// code/ relative path -> SHA-256 of what is on disk under model_dir/code.
std::map<std::string, std::string> existing_code(const fs::path& code_dir) {
  std::map<std::string, std::string> files;
  std::error_code ec;
  for (fs::recursive_directory_iterator it(code_dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (!it->is_regular_file(ec)) continue;
    auto content = slurp(it->path());
    files["code/" + it->path().lexically_relative(code_dir).generic_string()] =
        content ? sha256_hex(*content) : "";
  }
  return files;
}

}  // namespace

Result<ModelTree> with_code(ModelTree tree, const SourceSpec& code) {
  if (!code.has_code()) return tree;
  auto sources = collect_code_sources(code);
  if (!sources) return std::move(sources).error();
  std::erase_if(tree.members, [](const Member& m) { return is_code_path(m.path); });
  std::erase_if(tree.contents, [](const auto& item) { return is_code_path(item.first); });
  std::erase_if(tree.weights, [](const WeightFileReport& w) { return is_code_path(w.member); });
  for (const auto& s : *sources) {
    Member member;
    member.path = member.stored_path = s.archive_path;
    member.type = s.type;
    member.mode = s.mode;
    member.size = s.size;
    if (s.type == EntryType::file) {
      auto content = slurp(s.disk_path);
      if (!content) return std::move(content).error();
      member.sha256 = sha256_hex(*content);
      tree.contents[s.archive_path] = std::move(*content);
    }
    tree.members.push_back(std::move(member));
  }
  return tree;
}

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
    auto before = artifact->visit(options.lint ? lint_load_options(/*check_tensor_crcs=*/false)
                                               : VisitOptions{});
    if (!before) return std::move(before).error();
    auto after = with_code(std::move(*before), code);
    if (!after) return std::move(after).error();
    LintReport report = lint_gate(*after, code);
    result.deploy_call = no_repack_deploy_call(framework_for(report.profile), program);
    if (options.lint && !report.deploy_ready) {
      result.refused = std::move(report);
      return result;
    }
  }
  const fs::path target = model_dir / "code";
  auto before = existing_code(target);
  std::map<std::string, std::string> after;
  for (const auto& s : *sources) {
    if (s.type != EntryType::file) continue;
    auto content = slurp(s.disk_path);
    if (!content) return std::move(content).error();
    after[s.archive_path] = sha256_hex(*content);
  }
  if (fs::exists(target, ec) && before == after) {
    result.unchanged = true;
    return result;
  }
  for (const auto& [path, sha] : before) {
    if (!after.count(path)) result.removed.push_back(path);
  }
  if (fs::exists(target, ec) && options.existing == ExistingCode::refuse_if_different) {
    return Error::usage(target.string() + " already exists with different content" +
                        (result.removed.empty()
                             ? std::string()
                             : " (replacing it removes " + std::to_string(result.removed.size()) +
                                   " file(s), e.g. " + result.removed.front() + ")"))
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
      result.written.push_back(s.archive_path);
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
  nlohmann::ordered_json doc = {{"model_dir", model_dir},
                                {"unchanged", result.unchanged},
                                {"written", result.written},
                                {"removed", result.removed},
                                {"deploy_call", result.deploy_call}};
  return doc.dump(2) + "\n";
}

}  // namespace smpack
