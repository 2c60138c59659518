// Rules of an uncompressed layout (S3ModelDataSource with CompressionType None): each
// key minus the prefix becomes a path under /opt/ml/model, and CreateModel refuses a
// key it cannot map (the S3ModelDataSource API reference), a 0-byte "folder" object
// breaks the download, and a name that is both a file and a folder cannot be laid out.
#include <set>

#include "lint/lint_rules.h"

namespace smpack::lint_internal {
namespace {

constexpr std::size_t kMaxKeyBytes = 255;

// Why SageMaker refuses `key` (the part after the prefix); "" when it does not.
std::string key_problem(std::string_view key) {
  if (key.find('\0') != std::string_view::npos) return "it holds a NUL byte";
  if (key.size() > kMaxKeyBytes) {
    return "it is " + std::to_string(key.size()) + " bytes long, over the " +
           std::to_string(kMaxKeyBytes) + " SageMaker accepts";
  }
  for (std::size_t start = 0;;) {
    const auto slash = key.find('/', start);
    const auto part = key.substr(start, slash == std::string_view::npos ? key.npos : slash - start);
    if (part.empty() && slash != std::string_view::npos) return "it has an empty path component";
    if (part == "." || part == "..") return "it has a '" + std::string(part) + "' component";
    if (slash == std::string_view::npos) return {};
    start = slash + 1;
  }
}

}  // namespace

void run_prefix_rules(LintContext& context) {
  const ModelTree& tree = context.tree;
  const bool s3 = tree.source == ArtifactKind::s3_prefix;
  std::set<std::string, std::less<>> files;
  for (const auto& member : tree.members) {
    const std::string& key = member.stored_path;
    if (s3 && member.type == EntryType::directory) {
      context.report(rule("prefix-folder-object"), key, 0, 0,
                     "'" + key +
                         "' is a 0-byte folder object (as the S3 console makes them); "
                         "SageMaker cannot download it as a file: delete it (aws s3 rm)");
      continue;
    }
    if (member.type == EntryType::symlink) {
      context.report(rule("prefix-symlink"), key, 0, 0,
                     "'" + key +
                         "' is a symlink; an uncompressed layout holds plain files only: "
                         "copy the file it points to instead");
      continue;
    }
    if (member.type != EntryType::file) continue;
    if (auto problem = key_problem(key); !problem.empty()) {
      context.report(rule("prefix-bad-key"), key, 0, 0,
                     "'" + key + "': CreateModel refuses the key, because " + problem);
      continue;
    }
    files.insert(key);
  }
  // A file "a/b" and a key "a/b/c": /opt/ml/model/a/b cannot be both. Said once per file.
  std::set<std::string_view> clashing;
  for (const auto& key : files) {
    for (auto slash = key.find('/'); slash != std::string::npos; slash = key.find('/', slash + 1)) {
      const auto folder = std::string_view(key).substr(0, slash);
      if (!files.contains(folder) || !clashing.insert(folder).second) continue;
      context.report(rule("prefix-file-dir-clash"), std::string(folder), 0, 0,
                     "'" + std::string(folder) + "' is a file and also the folder of '" + key +
                         "'; the model download cannot lay out both");
    }
  }
}

}  // namespace smpack::lint_internal
