// Thin RAII wrappers over POSIX file descriptors, with errors that name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "smpack/result.h"

namespace smpack {

class InputFile {
 public:
  static Result<InputFile> open(const std::filesystem::path& path);
  InputFile(InputFile&& other) noexcept;
  InputFile& operator=(InputFile&& other) noexcept;
  ~InputFile();

  // Fills as much of `out` as the file has left; 0 at end of file.
  Result<std::size_t> read(std::span<std::byte> out);
  // Reads exactly out.size() bytes at `offset`; bad_input if the file is shorter.
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const;
  std::uint64_t size() const { return size_; }
  int fd() const { return fd_; }
  const std::filesystem::path& path() const { return path_; }

 private:
  InputFile(int fd, std::uint64_t size, std::filesystem::path path)
      : fd_(fd), size_(size), path_(std::move(path)) {}
  int fd_ = -1;
  std::uint64_t size_ = 0;
  std::filesystem::path path_;
};

// A file written beside its destination and renamed over it only by commit(), after
// fsync unless it is not `durable`; destroyed without commit() it removes itself, so an error or an
// interrupt never leaves a partial file under the destination's name.
//
// Bytes gather in an aligned buffer and reach the file a buffer at a time. A durable
// file writes them with O_DIRECT, past the page cache: they must reach the disk before
// the rename anyway, and on the machines measured (bench/RESULTS.md) the kernel's copy
// into the cache and its writeback cost 1.9-2.5 CPU s per GB, against 0.1 s direct. The
// file is then not in the cache when it is done. Where the file system refuses O_DIRECT,
// the writes go through the cache and are handed to the disk as they are written.
class AtomicOutputFile {
 public:
  static Result<AtomicOutputFile> create(const std::filesystem::path& destination,
                                         bool durable = true);
  AtomicOutputFile(AtomicOutputFile&& other) noexcept;
  AtomicOutputFile& operator=(AtomicOutputFile&&) = delete;
  ~AtomicOutputFile();

  Result<void> write(std::span<const std::byte> bytes);
  // Appends `length` bytes that `fill` puts into the spans it is given, front to back:
  // a source read straight into the buffer, with no copy between.
  using Fill = std::function<Result<void>(std::span<std::byte>)>;
  Result<void> append(std::uint64_t length, const Fill& fill);
  Result<void> commit();
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  struct FreeBuffer {
    void operator()(std::byte* p) const { std::free(p); }
  };
  AtomicOutputFile(int fd, std::filesystem::path temp, std::filesystem::path destination,
                   bool durable)
      : fd_(fd),
        durable_(durable),
        temp_path_(std::move(temp)),
        destination_(std::move(destination)) {}
  // Writes the buffer's bytes at the end of the file.
  Result<void> flush();
  // Writes `bytes` at `offset` with O_DIRECT; false where that is refused (the file
  // system, or a device block larger than the buffer's alignment).
  bool write_direct(std::span<const std::byte> bytes, std::uint64_t offset);
  // Starts writing to disk what went through the cache since the last call, once a
  // stride has gathered: a durable file's fsync then waits only for what the disk has
  // not yet written, not for the whole file.
  void start_writeback();

  int fd_ = -1;
  int direct_fd_ = -1;  // the file opened with O_DIRECT, once a full buffer is written
  bool direct_refused_ = false;
  bool durable_ = true;
  std::unique_ptr<std::byte, FreeBuffer> buffer_;
  std::size_t buffered_ = 0;          // bytes in buffer_, after the file's written_
  std::uint64_t written_ = 0;         // bytes in the file
  std::uint64_t writeback_from_ = 0;  // what start_writeback() has handed to the disk
  std::filesystem::path temp_path_;
  std::filesystem::path destination_;
};

// The bytes of `path` from `offset` to its end.
Result<std::vector<std::byte>> read_file_from(const std::filesystem::path& path,
                                              std::uint64_t offset);

// Writes all of `bytes` to `fd` at its current position (io error naming `what`).
Result<void> write_all(int fd, std::span<const std::byte> bytes, const std::string& what);

// "path: strerror(errno)"
Error io_error(const std::filesystem::path& path, std::string_view action, int err);

}  // namespace smpack
