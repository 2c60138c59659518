// The members of a model directory as an archive of it would list them: every entry,
// symlinks and special files included (not followed), in the canonical order.
#pragma once

#include <cstdint>
#include <filesystem>
#include <vector>

#include "smpack/cancel.h"
#include "smpack/model_tree.h"
#include "smpack/result.h"

namespace smpack {

// bad_input past max_entries; io on file-system errors; interrupted when cancelled.
// Paths are relative to root.
Result<std::vector<Member>> walk_directory(const std::filesystem::path& root,
                                           std::uint64_t max_entries, const CancelToken* cancel);

}  // namespace smpack
