// The index smpack puts at the end of the archives it writes, inside the FEXTRA
// fields of empty gzip members, where no tar or gzip reader sees it as content.
// With it a reader seeks straight to any member, and `code/` (always last) can be
// replaced by rewriting only the tail. docs/format.md has the byte layout.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/entry.h"
#include "smpack/manifest.h"
#include "smpack/result.h"

namespace smpack {

// One gzip member of the archive: where it is in the file and which bytes of the
// tar stream it holds.
struct GzipMemberSpan {
  std::uint64_t file_offset = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t tar_offset = 0;
  std::uint64_t tar_bytes = 0;
};

struct IndexedEntry {
  std::string path;  // normalised, no trailing '/'
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string sha256;               // hex; empty for directories
  std::uint64_t header_offset = 0;  // tar stream offset of the first header block
  std::uint64_t data_offset = 0;    // tar stream offset of the data
  std::uint32_t first_member = 0;   // index into ArchiveIndex::members
};

struct ArchiveIndex {
  std::uint32_t version = 1;
  int level = 1;
  std::uint64_t chunk_bytes = 0;
  std::int64_t mtime = 0;
  std::vector<GzipMemberSpan> members;  // content members, end-of-archive member last
  std::vector<IndexedEntry> entries;    // canonical order, code/ last
  std::uint32_t code_member = 0;        // first member of the code/ part (== the end-of-archive
                                        // member's index when there is no code/)
  std::uint64_t index_offset = 0;       // file offset where the index members start
  std::uint64_t file_bytes = 0;         // archive size the index describes

  std::vector<ManifestEntry> manifest_entries() const;
  const IndexedEntry* find(std::string_view path) const;
};

// nullopt when the file carries no smpack index (any other gzip tar). bad_input
// when it carries one that is damaged or does not match the file.
Result<std::optional<ArchiveIndex>> read_archive_index(const std::filesystem::path& archive);

// Receives a member's data in order, in pieces.
using ByteSink = std::function<Result<void>(std::span<const std::byte>)>;

// Streams one member's data through the index, reading only the gzip members that
// hold it (decoded in parallel: each is a gzip stream of its own) and passing them
// on in order; the SHA-256 is checked at the end (bad_input on mismatch, after the
// data has been passed on).
Result<void> stream_indexed_entry(const std::filesystem::path& archive, const ArchiveIndex& index,
                                  const IndexedEntry& entry, const ByteSink& sink);

// The whole of one member's data, through stream_indexed_entry. bad_input on
// damage, mismatch, or a member larger than max_bytes.
Result<std::string> read_indexed_entry(const std::filesystem::path& archive,
                                       const ArchiveIndex& index, const IndexedEntry& entry,
                                       std::uint64_t max_bytes);

// Random access to one member's data through the index: a read decodes only the
// gzip members that hold the bytes asked for (the last few stay cached), so a weight
// file's header and its tail cost a chunk each, not the whole member. Every decoded
// member's CRC-32 is checked; the member's SHA-256 is not (that needs all of it).
// `index` and `entry` must outlive the source. Not thread-safe.
class IndexedEntryByteSource final : public ByteSource {
 public:
  static Result<IndexedEntryByteSource> open(const std::filesystem::path& archive,
                                             const ArchiveIndex& index, const IndexedEntry& entry);
  IndexedEntryByteSource(IndexedEntryByteSource&&) noexcept;
  ~IndexedEntryByteSource() override;

  std::uint64_t size() const override;
  std::uint64_t held_from(std::uint64_t offset) const override;
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;

 private:
  struct Impl;
  explicit IndexedEntryByteSource(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smpack
