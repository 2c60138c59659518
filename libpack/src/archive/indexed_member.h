// Reading one member of an smpack archive through its index: only the gzip members
// that hold its bytes are decoded (docs/format.md).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "io/thread_pool.h"
#include "smpack/archive_index.h"
#include "smpack/byte_source.h"
#include "smpack/cancel.h"

namespace smpack {

// Decodes gzip member `i` of the index whole: the tar-stream bytes it holds,
// CRC-checked, and exactly as many as the index says. `where` names the archive in
// errors. Safe to call from several threads at once.
Result<std::vector<std::byte>> decode_indexed_member(const ByteSource& file,
                                                     const ArchiveIndex& index, std::size_t i,
                                                     const std::string& where);

// Streams one member's data, decoding its gzip members side by side on `pool` (each
// is a gzip stream of its own) and passing them on in order; the SHA-256 is checked
// at the end (bad_input on mismatch, after the data has been passed on).
Result<void> stream_indexed_entry(const ByteSource& archive, std::string_view name,
                                  const ArchiveIndex& index, const IndexedEntry& entry,
                                  ThreadPool& pool, const ByteSink& sink,
                                  const CancelToken* cancel = nullptr);

// The whole of one member's data, through stream_indexed_entry. bad_input on
// damage, mismatch, or a member larger than max_bytes.
Result<std::string> read_indexed_entry(const ByteSource& archive, std::string_view name,
                                       const ArchiveIndex& index, const IndexedEntry& entry,
                                       ThreadPool& pool, std::uint64_t max_bytes);

// Random access to one member's data: a read decodes only the gzip members that hold
// the bytes asked for (the last few stay cached), so a weight file's header and its
// tail cost a chunk each, not the whole member. Every decoded member's CRC-32 is
// checked; the member's SHA-256 is not (that needs all of it). `archive`, `index` and
// `entry` must outlive the source. Not thread-safe.
class IndexedEntryByteSource final : public ByteSource {
 public:
  IndexedEntryByteSource(const ByteSource& archive, std::string_view name,
                         const ArchiveIndex& index, const IndexedEntry& entry);

  std::uint64_t size() const override;
  std::uint64_t held_from(std::uint64_t offset) const override;
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;
  bool reads_at_random_cheaply() const override { return false; }

 private:
  const ByteSource& archive_;
  const ArchiveIndex& index_;
  const IndexedEntry& entry_;
  std::string where_;
  // The most recently decoded gzip members, newest last.
  mutable std::deque<std::pair<std::size_t, std::vector<std::byte>>> cache_;
};

}  // namespace smpack
