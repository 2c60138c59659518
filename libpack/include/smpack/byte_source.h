// Random-access bytes of one file that may be only partly present.
// Weight files can be many GiB and may come out of a streamed archive, where only
// a head and a tail window of a member were kept; the weight analysers read through
// this interface and report "not available" ranges as incomplete results instead
// of failing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

// Receives data in order, in pieces.
using ByteSink = std::function<Result<void>(std::span<const std::byte>)>;

// read_at is const and positionless: a source of a whole file (file, memory) is safe
// to read from several threads at once, which is how an archive's gzip members are
// decoded side by side. A source that caches what it decoded is not, and says so
// through reads_at_random_cheaply().
class ByteSource {
 public:
  virtual ~ByteSource() = default;
  // Size of the whole file, held or not.
  virtual std::uint64_t size() const = 0;
  // How many contiguous bytes from `offset` on this source holds (0 if none, or if
  // offset >= size()).
  virtual std::uint64_t held_from(std::uint64_t offset) const = 0;
  // Reads exactly out.size() bytes at `offset`. Error::bad_input("... not available
  // ...") if the range is outside the file or outside what this source holds;
  // Error::io if the operating system refuses the read.
  virtual Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const = 0;

  // False where every read is a request over the network (an object in S3) or where
  // the source decodes and caches (not safe to share): readers then go front to back
  // in one stream instead of fetching pieces side by side.
  virtual bool reads_at_random_cheaply() const { return true; }

  // True when [offset, offset + length) is held in full.
  bool holds(std::uint64_t offset, std::uint64_t length) const {
    return length == 0 ? offset <= size() : held_from(offset) >= length;
  }
};

// The whole file in memory; views the caller's bytes, which must outlive it.
class MemoryByteSource final : public ByteSource {
 public:
  explicit MemoryByteSource(std::span<const std::byte> bytes) : bytes_(bytes) {}
  explicit MemoryByteSource(std::string_view bytes)
      : bytes_(reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::uint64_t held_from(std::uint64_t offset) const override;
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;

 private:
  std::span<const std::byte> bytes_;
};

// A file of `total_size` bytes of which only the first head.size() and the last
// tail.size() bytes were kept (a member of a streamed archive, e.g. its first 64 MiB
// and last 16 MiB). Owns both windows. A tail longer than the file is cut to fit.
class WindowByteSource final : public ByteSource {
 public:
  WindowByteSource(std::uint64_t total_size, std::vector<std::byte> head,
                   std::vector<std::byte> tail);
  std::uint64_t size() const override { return total_size_; }
  std::uint64_t held_from(std::uint64_t offset) const override;
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;

 private:
  std::uint64_t total_size_;
  std::vector<std::byte> head_;
  std::vector<std::byte> tail_;
  std::uint64_t tail_offset_;  // where tail_ starts in the file
};

// Bytes [offset, offset + length) of another source, as a file of their own (a
// stored zip member, a tar member). The parent must outlive it.
class SliceByteSource final : public ByteSource {
 public:
  // A slice reaching past the parent's end is cut at it.
  SliceByteSource(const ByteSource& parent, std::uint64_t offset, std::uint64_t length);
  std::uint64_t size() const override { return length_; }
  std::uint64_t held_from(std::uint64_t offset) const override;
  bool reads_at_random_cheaply() const override { return parent_.reads_at_random_cheaply(); }
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;

 private:
  const ByteSource& parent_;
  std::uint64_t offset_;
  std::uint64_t length_;
};

// Passes all of `source` to `sink`, front to back, in pieces; interrupted when cancelled.
Result<void> stream_all(const ByteSource& source, const ByteSink& sink,
                        const CancelToken* cancel = nullptr);

class InputFile;

// A regular file read with pread; holds all of it. Not thread-safe to move while read.
class FileByteSource final : public ByteSource {
 public:
  // Error::io if the file cannot be opened or is a directory.
  static Result<FileByteSource> open(const std::filesystem::path& path);
  FileByteSource(FileByteSource&&) noexcept;
  FileByteSource& operator=(FileByteSource&&) noexcept;
  ~FileByteSource() override;

  std::uint64_t size() const override;
  std::uint64_t held_from(std::uint64_t offset) const override;
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;

 private:
  explicit FileByteSource(std::unique_ptr<InputFile> file);
  std::unique_ptr<InputFile> file_;
};

}  // namespace smpack
