// A model artifact seen the same way whether it is a model.tar.gz (any writer's)
// or a model directory such as /opt/ml/model: its members, and the contents of
// the small files that rules and `info` read (code, configs, requirements).
// An archive is streamed once (or, for an smpack archive, read through its index:
// only the kept members are decompressed); nothing is extracted to disk.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/archive_index.h"
#include "smpack/container_kind.h"
#include "smpack/entry.h"
#include "smpack/member_path.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"
#include "smpack/weight_inventory.h"

namespace smpack {

struct TreeMember {
  std::string path;         // normalised (see check_member_path); "" for a root member
  std::string stored_path;  // exactly as stored
  PathProblem path_problem = PathProblem::none;
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string link_target;
  std::string sha256;  // hex; known for smpack archives and for kept members
};

enum class TreeSource { directory, archive, smpack_archive };

struct ModelTree {
  std::string display_name;  // what the user named
  TreeSource source = TreeSource::directory;
  ContainerKind container = ContainerKind::unknown;  // unknown for directories
  std::vector<TreeMember> members;                   // archive order; sorted for directories
  // Contents of the members selected by TreeLoadOptions::keep_content, by normalised path.
  // For duplicate paths, the last one (the one an extractor leaves on disk) is kept.
  std::map<std::string, std::string, std::less<>> contents;
  // The weight files among the members, in member order (when TreeLoadOptions::weights
  // asked for them).
  std::vector<WeightFileReport> weights;
  bool weights_scanned = false;

  const std::string* content(std::string_view path) const;
  const TreeMember* find(std::string_view path) const;  // the last member with that path
};

// The default selection: everything under code/, *.py anywhere, requirements*.txt
// anywhere, *.json at the root, and members named in keep_also.
bool keep_content_by_default(std::string_view normalized_path, std::uint64_t size);

struct TreeLoadOptions {
  ReadLimits limits;
  std::uint64_t max_content_bytes = 8ull << 20;  // members larger than this are not kept
  std::function<bool(std::string_view path, std::uint64_t size)> keep_content =
      keep_content_by_default;
  // nullopt: weight files are not looked at (the fast path of ls and diff).
  std::optional<WeightInventoryOptions> weights;
};

// `path` is a directory or an archive file. Errors: bad_input for an unreadable or
// unsafe archive (message names the member), io for file-system failures.
Result<ModelTree> load_model_tree(const std::filesystem::path& path,
                                  const TreeLoadOptions& options = {});

// Streams one member's data (the last member of that path, as an extractor
// would leave it) to `sink`; bad_input when there is no such file member.
Result<void> stream_member(const std::filesystem::path& archive_or_dir,
                           std::string_view member_path, const ByteSink& sink,
                           const ReadLimits& limits = {});

// The whole data of one member of an archive (through the index on smpack
// archives, else by streaming) or one file under a directory. bad_input when
// absent or larger than max_bytes.
Result<std::string> read_member(const std::filesystem::path& archive_or_dir,
                                std::string_view member_path, std::uint64_t max_bytes,
                                const ReadLimits& limits = {});

}  // namespace smpack
