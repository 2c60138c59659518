#include "archive/parallel_tar_source.h"

#include <algorithm>
#include <cstring>

#include "archive/indexed_member.h"

namespace smpack {

ParallelTarSource::ParallelTarSource(const ByteSource& archive, const ArchiveIndex& index,
                                     ThreadPool& pool, std::string name)
    : archive_(archive),
      index_(index),
      pool_(pool),
      name_(std::move(name)),
      size_(index.members.back().tar_offset + index.members.back().tar_bytes) {}

ParallelTarSource::~ParallelTarSource() {
  for (auto& member : ahead_) member.wait();  // the tasks reference this source
}

std::size_t ParallelTarSource::member_at(std::uint64_t tar_offset) const {
  const auto& members = index_.members;
  auto after =
      std::upper_bound(members.begin(), members.end(), tar_offset,
                       [](std::uint64_t at, const GzipMemberSpan& m) { return at < m.tar_offset; });
  return static_cast<std::size_t>(after - members.begin()) - 1;
}

Result<void> ParallelTarSource::seek_member(std::size_t i) const {
  if (have_current_ && i == current_) return {};
  if (!have_current_ || i != current_ + 1) {  // not the next one: start over from i
    for (auto& member : ahead_) member.wait();
    ahead_.clear();
    next_to_decode_ = i;
  }
  // ahead_.front() is member i; a few more per worker are on their way behind it.
  const std::size_t ahead = 2 * std::size_t{pool_.size()} + 1;
  while (next_to_decode_ < index_.members.size() && ahead_.size() < ahead) {
    ahead_.push_back(pool_.submit([this, n = next_to_decode_++] {
      return decode_indexed_member(archive_, index_, n, name_);
    }));
  }
  auto decoded = ahead_.front().get();
  ahead_.pop_front();
  have_current_ = false;
  if (!decoded) return std::move(decoded).error();
  decoded_ = std::move(*decoded);
  current_ = i;
  have_current_ = true;
  return {};
}

std::uint64_t ParallelTarSource::held_from(std::uint64_t offset) const {
  return offset < size_ ? size_ - offset : 0;
}

Result<void> ParallelTarSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset)
    return Error::bad_input(name_ + ": a read past the end of the tar stream is not available");
  while (!out.empty()) {
    if (auto r = seek_member(member_at(offset)); !r) return r;
    const GzipMemberSpan& span = index_.members[current_];
    const std::uint64_t within = offset - span.tar_offset;
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), span.tar_bytes - within));
    std::memcpy(out.data(), decoded_.data() + within, n);
    out = out.subspan(n);
    offset += n;
  }
  return {};
}

std::uint64_t ParallelTarSource::archive_bytes_read() const {
  return have_current_ ? index_.members[current_].file_offset : 0;
}

}  // namespace smpack
