// The member-level difference of two artifacts, from their manifests: what `diff`
// prints. Two smpack archives are compared through their indexes, reading no data.
#pragma once

#include <string>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/manifest.h"

namespace smpack {

struct ModeChange {
  std::string path;
  std::uint32_t before = 0;
  std::uint32_t after = 0;
};

struct ManifestDiff {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> content_changed;
  std::vector<ModeChange> mode_changed;
  bool empty() const {
    return added.empty() && removed.empty() && content_changed.empty() && mode_changed.empty();
  }
};

ManifestDiff diff_manifests(const Manifest& before, const Manifest& after);

Result<ManifestDiff> diff_artifacts(const Artifact& before, const Artifact& after,
                                    const CancelToken* cancel = nullptr);

// {"added": [...], "removed": [...], "content_changed": [...], "mode_changed": [{path,
// before, after}]} (docs/cli.md).
std::string diff_json(const ManifestDiff& diff);

}  // namespace smpack
