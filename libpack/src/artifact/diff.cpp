#include "smpack/diff.h"

#include <map>
#include <nlohmann/json.hpp>

#include "smpack/digest.h"
#include "util/json_text.h"

namespace smpack {

ManifestDiff diff_manifests(const Manifest& before, const Manifest& after) {
  ManifestDiff diff;
  std::map<std::string, const ManifestEntry*> old_entries, new_entries;
  for (const auto& e : before.entries) old_entries[e.path] = &e;
  for (const auto& e : after.entries) new_entries[e.path] = &e;
  for (const auto& [path, old_entry] : old_entries) {
    auto it = new_entries.find(path);
    if (it == new_entries.end()) {
      diff.removed.push_back(path);
      continue;
    }
    const ManifestEntry& now = *it->second;
    if (now.type != old_entry->type || now.size != old_entry->size ||
        now.sha256 != old_entry->sha256) {
      diff.content_changed.push_back(path);
    }
    if (now.mode != old_entry->mode) diff.mode_changed.push_back({path, old_entry->mode, now.mode});
  }
  for (const auto& [path, entry] : new_entries) {
    if (!old_entries.count(path)) diff.added.push_back(path);
  }
  return diff;
}

Result<ManifestDiff> diff_artifacts(const Artifact& before, const Artifact& after,
                                    const CancelToken* cancel) {
  auto old_manifest = before.manifest(cancel);
  if (!old_manifest) return std::move(old_manifest).error();
  auto new_manifest = after.manifest(cancel);
  if (!new_manifest) return std::move(new_manifest).error();
  return diff_manifests(*old_manifest, *new_manifest);
}

std::string diff_json(const ManifestDiff& diff) {
  nlohmann::ordered_json modes = nlohmann::ordered_json::array();
  for (const auto& m : diff.mode_changed) {
    modes.push_back(
        {{"path", m.path}, {"before", octal_mode(m.before)}, {"after", octal_mode(m.after)}});
  }
  nlohmann::ordered_json doc = {{"added", diff.added},
                                {"removed", diff.removed},
                                {"content_changed", diff.content_changed},
                                {"mode_changed", modes}};
  return json_text(doc);
}

}  // namespace smpack
