#include "smpack/model_tree.h"

#include <nlohmann/json.hpp>

#include "util/json_text.h"

namespace smpack {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::string_view name_of(ArtifactKind kind) {
  switch (kind) {
    case ArtifactKind::directory:
      return "directory";
    case ArtifactKind::smpack_archive:
      return "smpack archive";
    case ArtifactKind::streamed_archive:
      return "archive";
    case ArtifactKind::s3_prefix:
      return "S3 prefix";
  }
  return "";
}

const std::string* ModelTree::content(std::string_view path) const {
  auto it = contents.find(path);
  return it == contents.end() ? nullptr : &it->second;
}

const Member* ModelTree::find(std::string_view path) const {
  for (auto it = members.rbegin(); it != members.rend(); ++it) {
    if (it->path == path) return &*it;
  }
  return nullptr;
}

Manifest ModelTree::manifest() const {
  Manifest m;
  if (archive) m.archive_bytes = archive->file_bytes;
  for (const auto& e : members) {
    if (e.type != EntryType::file && e.type != EntryType::directory) continue;
    if (e.path_problem == PathProblem::root_member) continue;
    m.entries.push_back({e.path, e.type, e.mode, e.size, e.sha256});
  }
  m.content_digest = content_digest(m.entries);
  return m;
}

bool keep_content_by_default(std::string_view path, std::uint64_t) {
  if (path.substr(0, 5) == "code/") return true;
  if (ends_with(path, ".py")) return true;
  const auto slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  if (name.substr(0, 12) == "requirements" && ends_with(name, ".txt")) return true;
  // config.json, shard indexes, tokenizer configs; and LMI's serving.properties.
  return slash == std::string_view::npos &&
         (ends_with(path, ".json") || path == "serving.properties");
}

std::string members_json(const std::vector<Member>& members) {
  nlohmann::ordered_json list = nlohmann::ordered_json::array();
  for (const auto& m : members) {
    nlohmann::ordered_json item = {{"path", m.path},
                                   {"stored_path", m.stored_path},
                                   {"type", name_of(m.type)},
                                   {"mode", octal_mode(m.mode)},
                                   {"size", m.size}};
    if (!m.link_target.empty()) item["link_target"] = m.link_target;
    if (!m.sha256.empty()) item["sha256"] = m.sha256;
    list.push_back(std::move(item));
  }
  return json_text(list);
}

}  // namespace smpack
