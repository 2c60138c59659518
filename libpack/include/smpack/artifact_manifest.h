// The manifest (members and SHA-256s) of any artifact, and the member-level
// difference of two: what `digest` and `diff` print.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

#include "smpack/manifest.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"

namespace smpack {

// A directory is walked and hashed; an smpack archive answers from its index
// without decompressing; any other archive is streamed once.
Result<Manifest> manifest_of(const std::filesystem::path& archive_or_dir,
                             const ReadLimits& limits = {});

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

}  // namespace smpack
