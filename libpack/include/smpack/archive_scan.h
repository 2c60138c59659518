// One streaming pass over an archive that gathers what `info`, `digest` and
// `verify` print: every member with its SHA-256, the gzip and tar facts, who
// probably wrote it, and (for smpack archives) whether the index agrees with
// the bytes. Every gzip CRC is checked on the way; corruption is an Error.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smpack/archive_index.h"
#include "smpack/archive_reader.h"
#include "smpack/cancel.h"
#include "smpack/manifest.h"
#include "smpack/member_path.h"
#include "smpack/model_tree.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"
#include "smpack/weight_inventory.h"

namespace smpack {

struct ScannedEntry {
  Entry entry;
  MemberPath path;     // normalised, with its problem
  std::string sha256;  // hex, regular files only, when hashing was asked for
};

struct ArchiveScan {
  std::string display_name;
  ContainerKind container = ContainerKind::unknown;
  std::string tar_format;
  GzipHeaderInfo gzip;
  std::uint64_t file_bytes = 0;
  std::uint64_t tar_bytes = 0;
  std::uint64_t gzip_members = 0;
  std::vector<ScannedEntry> entries;
  std::optional<ArchiveIndex> index;
  std::string writer;  // "smpack", "SageMaker SDK repack", "Python tarfile", "GNU tar", "unknown"
  std::string writer_evidence;  // why we think so
  // Disagreements between the smpack index and the bytes (only with check_index).
  std::vector<std::string> index_problems;

  // Contents of the members ScanOptions::keep_content selected, by normalised path.
  std::map<std::string, std::string, std::less<>> contents;
  // The weight files among the members (with ScanOptions::weights).
  std::vector<WeightFileReport> weights;
  bool weights_scanned = false;

  // Manifest of the members (regular files and directories), for digests.
  Manifest manifest() const;
  // The same archive as a ModelTree (members and kept contents), for lint and handlers.
  ModelTree tree() const;
};

struct ScanOptions {
  ReadLimits limits;
  bool hash_members = true;
  bool check_index = false;  // compare every gzip member and entry with the index
  // Members whose contents to keep (small files only; see TreeLoadOptions).
  std::function<bool(std::string_view path, std::uint64_t size)> keep_content;
  std::uint64_t max_content_bytes = 8ull << 20;
  std::optional<WeightInventoryOptions> weights;  // nullopt: weight files are not looked at
  const CancelToken* cancel = nullptr;
  ProgressSink* progress = nullptr;  // compressed bytes consumed
};

Result<ArchiveScan> scan_archive(const std::filesystem::path& path,
                                 const ScanOptions& options = {});

// Problems found comparing a scan with an expected manifest ("missing member x",
// "x: SHA-256 differs", "archive SHA-256 differs"); empty when they agree.
// `archive_sha256` is the archive's digest when known ("" to skip that check).
std::vector<std::string> compare_with_manifest(const ArchiveScan& scan, const Manifest& expected,
                                               const std::string& archive_sha256);

}  // namespace smpack
