// The tar stream of an smpack archive, decoded ahead of its reader: the index's gzip
// members (contiguous from offset 0, as the index is validated) are each a gzip stream
// of their own, so workers inflate the next few while the reader parses and hashes
// the current one. A tar parser reading it front to back sees every member, including
// any the index leaves out, at the speed of all cores rather than one.
#pragma once

#include <cstdint>
#include <deque>
#include <future>
#include <string>
#include <vector>

#include "io/thread_pool.h"
#include "smpack/archive_index.h"
#include "smpack/byte_source.h"

namespace smpack {

// Not thread-safe: it keeps the decoded member and the ones in flight. Reads are
// cheapest in order; an earlier offset decodes its member again.
class ParallelTarSource final : public ByteSource {
 public:
  // `archive`, `index` and `pool` must outlive the source; `name` is used in errors.
  ParallelTarSource(const ByteSource& archive, const ArchiveIndex& index, ThreadPool& pool,
                    std::string name);
  ~ParallelTarSource() override;

  std::uint64_t size() const override { return size_; }
  std::uint64_t held_from(std::uint64_t offset) const override;
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;
  bool reads_at_random_cheaply() const override { return false; }
  // Where the reader is, in the archive's bytes (for progress).
  std::uint64_t archive_bytes_read() const;

 private:
  // Makes member `i` the current one.
  Result<void> seek_member(std::size_t i) const;
  std::size_t member_at(std::uint64_t tar_offset) const;

  const ByteSource& archive_;
  const ArchiveIndex& index_;
  ThreadPool& pool_;
  std::string name_;
  std::uint64_t size_;
  mutable std::size_t current_ = 0;
  mutable bool have_current_ = false;
  mutable std::size_t next_to_decode_ = 0;
  mutable std::vector<std::byte> decoded_;
  // Members current_ + 1, current_ + 2, ... being decoded.
  mutable std::deque<std::future<Result<std::vector<std::byte>>>> ahead_;
};

}  // namespace smpack
