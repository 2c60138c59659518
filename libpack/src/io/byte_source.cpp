#include "smpack/byte_source.h"

#include <algorithm>
#include <cstring>
#include <string>

#include "io/file_io.h"

namespace smpack {
namespace {

Error not_available(std::uint64_t offset, std::uint64_t length, std::uint64_t size,
                    std::string_view what_is_held) {
  return Error::bad_input("bytes " + std::to_string(offset) + ".." +
                          std::to_string(offset + length) + " of a " + std::to_string(size) +
                          "-byte file are not available (" + std::string(what_is_held) + ")");
}

// Bytes held from `offset` in a window [start, start + length) of the file.
std::uint64_t held_in_window(std::uint64_t offset, std::uint64_t start, std::uint64_t length) {
  if (offset < start || offset - start >= length) return 0;
  return length - (offset - start);
}

}  // namespace

std::uint64_t MemoryByteSource::held_from(std::uint64_t offset) const {
  return held_in_window(offset, 0, bytes_.size());
}

Result<void> MemoryByteSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (!holds(offset, out.size())) {
    return not_available(offset, out.size(), size(), "past the end of the file");
  }
  if (!out.empty()) std::memcpy(out.data(), bytes_.data() + offset, out.size());
  return {};
}

WindowByteSource::WindowByteSource(std::uint64_t total_size, std::vector<std::byte> head,
                                   std::vector<std::byte> tail)
    : total_size_(total_size), head_(std::move(head)), tail_(std::move(tail)) {
  if (head_.size() > total_size_) head_.resize(total_size_);
  if (tail_.size() > total_size_) {
    tail_.erase(tail_.begin(),
                tail_.begin() + static_cast<std::ptrdiff_t>(tail_.size() - total_size_));
  }
  tail_offset_ = total_size_ - tail_.size();
}

std::uint64_t WindowByteSource::held_from(std::uint64_t offset) const {
  std::uint64_t in_head = held_in_window(offset, 0, head_.size());
  std::uint64_t in_tail = held_in_window(offset, tail_offset_, tail_.size());
  // Where the windows touch or overlap, a range may run from the head into the tail.
  if (in_head > 0 && head_.size() >= tail_offset_ && !tail_.empty()) {
    return total_size_ - offset;
  }
  return std::max(in_head, in_tail);
}

Result<void> WindowByteSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (!holds(offset, out.size())) {
    return not_available(offset, out.size(), total_size_,
                         "only the first " + std::to_string(head_.size()) + " and the last " +
                             std::to_string(tail_.size()) + " bytes were kept");
  }
  for (std::size_t done = 0; done < out.size();) {
    std::uint64_t at = offset + done;
    std::size_t n = 0;
    if (at < head_.size()) {
      n = static_cast<std::size_t>(std::min<std::uint64_t>(head_.size() - at, out.size() - done));
      std::memcpy(out.data() + done, head_.data() + at, n);
    } else {
      n = out.size() - done;
      std::memcpy(out.data() + done, tail_.data() + (at - tail_offset_), n);
    }
    done += n;
  }
  return {};
}

SliceByteSource::SliceByteSource(const ByteSource& parent, std::uint64_t offset,
                                 std::uint64_t length)
    : parent_(parent),
      offset_(std::min(offset, parent.size())),
      length_(std::min(length, parent.size() - offset_)) {}

std::uint64_t SliceByteSource::held_from(std::uint64_t offset) const {
  if (offset >= length_) return 0;
  return std::min(parent_.held_from(offset_ + offset), length_ - offset);
}

Result<void> SliceByteSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (offset > length_ || out.size() > length_ - offset) {
    return not_available(offset, out.size(), length_, "past the end of the slice");
  }
  return parent_.read_at(offset_ + offset, out);
}

FileByteSource::FileByteSource(std::unique_ptr<InputFile> file) : file_(std::move(file)) {}
FileByteSource::FileByteSource(FileByteSource&&) noexcept = default;
FileByteSource& FileByteSource::operator=(FileByteSource&&) noexcept = default;
FileByteSource::~FileByteSource() = default;

Result<FileByteSource> FileByteSource::open(const std::filesystem::path& path) {
  auto file = InputFile::open(path);
  if (!file) return std::move(file).error();
  return FileByteSource(std::make_unique<InputFile>(std::move(file).value()));
}

std::uint64_t FileByteSource::size() const {
  return file_->size();
}

std::uint64_t FileByteSource::held_from(std::uint64_t offset) const {
  return held_in_window(offset, 0, file_->size());
}

Result<void> FileByteSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (!holds(offset, out.size())) {
    return not_available(offset, out.size(), size(), file_->path().string() + " is shorter");
  }
  return file_->read_at(offset, out);
}

Result<void> stream_all(const ByteSource& source, const ByteSink& sink, const CancelToken* cancel) {
  std::vector<std::byte> buffer(1 << 20);
  for (std::uint64_t at = 0; at < source.size();) {
    if (cancel && cancel->cancelled()) return Error::interrupted();
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), source.size() - at));
    const auto piece = std::span(buffer).first(n);
    if (auto r = source.read_at(at, piece); !r) return r;
    if (auto r = sink(piece); !r) return r;
    at += n;
  }
  return {};
}

}  // namespace smpack
