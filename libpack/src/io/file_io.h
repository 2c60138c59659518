// Thin RAII wrappers over POSIX file descriptors, with errors that name the file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
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
// interrupt never leaves a partial file under the destination's name. A durable file
// is handed to the disk as it is written, so the disk works beside the compression.
class AtomicOutputFile {
 public:
  static Result<AtomicOutputFile> create(const std::filesystem::path& destination,
                                         bool durable = true);
  AtomicOutputFile(AtomicOutputFile&& other) noexcept;
  AtomicOutputFile& operator=(AtomicOutputFile&&) = delete;
  ~AtomicOutputFile();

  Result<void> write(std::span<const std::byte> bytes);
  // `bytes` were appended through fd() (copy_file_range).
  void appended(std::uint64_t bytes);
  Result<void> commit();
  int fd() const { return fd_; }
  const std::filesystem::path& temp_path() const { return temp_path_; }

 private:
  AtomicOutputFile(int fd, std::filesystem::path temp, std::filesystem::path destination,
                   bool durable)
      : fd_(fd),
        durable_(durable),
        temp_path_(std::move(temp)),
        destination_(std::move(destination)) {}
  // Starts writing to disk what was appended since the last call, once a stride has
  // gathered: a durable file's fsync then waits only for what the disk has not yet
  // written, not for the whole file.
  void start_writeback();

  int fd_ = -1;
  bool durable_ = true;
  std::uint64_t written_ = 0;         // the file's size so far
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
