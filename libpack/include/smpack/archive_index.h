// The index smpack puts at the end of the archives it writes, inside the FEXTRA
// fields of empty gzip members, where no tar or gzip reader sees it as content.
// With it a reader seeks straight to any member, and `code/` (always last) can be
// replaced by rewriting only the tail. docs/format.md has the byte layout.
#pragma once

#include <cstdint>
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
  std::vector<GzipMemberSpan> members;   // content members, end-of-archive member last
  std::vector<IndexedEntry> entries;     // canonical order, code/ last
  std::uint32_t code_member = 0;         // first member of the code/ part (== the end-of-archive
                                         // member's index when there is no code/)
  std::uint64_t index_offset = 0;        // file offset where the index members start
  std::uint64_t file_bytes = 0;          // archive size the index describes
  std::uint32_t index_gzip_members = 0;  // the gzip members holding the index and trailer
  // A spliced archive (version 2): the first foreign_members members were written by
  // another tool (any gzip header, any size: the last one ends where smpack's tail
  // begins) and are read in order only; their entries keep the metadata stored.
  std::uint32_t foreign_members = 0;

  std::vector<ManifestEntry> manifest_entries() const;
  const IndexedEntry* find(std::string_view path) const;
};

// The format version `index` is written as: 2 with a foreign prefix, else 1.
std::uint32_t index_version(const ArchiveIndex& index);

// nullopt when the file carries no smpack index (any other gzip tar). bad_input
// when it carries one that is damaged or does not match the file. `name` is used in
// messages. Reads the trailer and the index, nothing else.
Result<std::optional<ArchiveIndex>> read_archive_index(const ByteSource& file,
                                                       std::string_view name);

}  // namespace smpack
