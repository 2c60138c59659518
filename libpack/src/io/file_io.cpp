#include "io/file_io.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <new>
#include <utility>

namespace smpack {

Error io_error(const std::filesystem::path& path, std::string_view action, int err) {
  return Error::io(path.string() + ": cannot " + std::string(action) + ": " + std::strerror(err));
}

Result<InputFile> InputFile::open(const std::filesystem::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return io_error(path, "open", errno);
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return io_error(path, "stat", err);
  }
  if (S_ISDIR(st.st_mode)) {
    ::close(fd);
    return Error::io(path.string() + ": is a directory");
  }
  return InputFile(fd, static_cast<std::uint64_t>(st.st_size), path);
}

InputFile::InputFile(InputFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), size_(other.size_), path_(std::move(other.path_)) {}

InputFile& InputFile::operator=(InputFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    size_ = other.size_;
    path_ = std::move(other.path_);
  }
  return *this;
}

InputFile::~InputFile() {
  if (fd_ >= 0) ::close(fd_);
}

Result<std::size_t> InputFile::read(std::span<std::byte> out) {
  std::size_t total = 0;
  while (total < out.size()) {
    ssize_t got = ::read(fd_, out.data() + total, out.size() - total);
    if (got < 0) {
      if (errno == EINTR) continue;
      return io_error(path_, "read", errno);
    }
    if (got == 0) break;
    total += static_cast<std::size_t>(got);
  }
  return total;
}

Result<void> InputFile::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  std::size_t total = 0;
  while (total < out.size()) {
    ssize_t got =
        ::pread(fd_, out.data() + total, out.size() - total, static_cast<off_t>(offset + total));
    if (got < 0) {
      if (errno == EINTR) continue;
      return io_error(path_, "read", errno);
    }
    if (got == 0) {
      return Error::bad_input(path_.string() + ": unexpected end of file at offset " +
                              std::to_string(offset + total));
    }
    total += static_cast<std::size_t>(got);
  }
  return {};
}

Result<std::vector<std::byte>> read_file_from(const std::filesystem::path& path,
                                              std::uint64_t offset) {
  auto file = InputFile::open(path);
  if (!file) return std::move(file).error();
  if (offset > file->size()) return Error::bad_input(path.string() + ": shorter than expected");
  std::vector<std::byte> bytes(file->size() - offset);
  if (auto r = file->read_at(offset, bytes); !r) return std::move(r).error();
  return bytes;
}

Result<void> write_all(int fd, std::span<const std::byte> bytes, const std::string& what) {
  while (!bytes.empty()) {
    ssize_t put = ::write(fd, bytes.data(), bytes.size());
    if (put < 0) {
      if (errno == EINTR) continue;
      return io_error(what, "write", errno);
    }
    bytes = bytes.subspan(static_cast<std::size_t>(put));
  }
  return {};
}

Result<AtomicOutputFile> AtomicOutputFile::create(const std::filesystem::path& destination,
                                                  bool durable) {
  auto dir = destination.parent_path();
  std::string pattern = (dir.empty() ? std::filesystem::path(".") : dir) /
                        ("." + destination.filename().string() + ".tmp.XXXXXX");
  int fd = ::mkostemp(pattern.data(), O_CLOEXEC);
  if (fd < 0) return io_error(destination, "create a temporary file beside", errno);
  ::fchmod(fd, 0644);
  return AtomicOutputFile(fd, pattern, destination, durable);
}

AtomicOutputFile::AtomicOutputFile(AtomicOutputFile&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      direct_fd_(std::exchange(other.direct_fd_, -1)),
      direct_refused_(other.direct_refused_),
      durable_(other.durable_),
      buffer_(std::move(other.buffer_)),
      buffered_(other.buffered_),
      written_(other.written_),
      writeback_from_(other.writeback_from_),
      temp_path_(std::move(other.temp_path_)),
      destination_(std::move(other.destination_)) {}

AtomicOutputFile::~AtomicOutputFile() {
  if (direct_fd_ >= 0) ::close(direct_fd_);
  if (fd_ >= 0) {
    ::close(fd_);
    ::unlink(temp_path_.c_str());
  }
}

namespace {

// A multiple of any device's logical block, so that every full buffer is a write
// O_DIRECT accepts; large enough that a write's cost is its bytes.
constexpr std::size_t kBufferBytes = 8 << 20;
constexpr std::size_t kBufferAlignment = 4096;
// Left alone, the kernel writes dirty pages out after 30 s or past a share of memory,
// so a build's closing fsync would wait for the whole archive to reach the disk after
// the compression has ended.
constexpr std::uint64_t kWritebackStride = 8ull << 20;

// Writes all of `bytes` at `offset`; errno on failure.
int pwrite_all(int fd, std::span<const std::byte> bytes, std::uint64_t offset) {
  while (!bytes.empty()) {
    ssize_t put = ::pwrite(fd, bytes.data(), bytes.size(), static_cast<off_t>(offset));
    if (put < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    bytes = bytes.subspan(static_cast<std::size_t>(put));
    offset += static_cast<std::uint64_t>(put);
  }
  return 0;
}

}  // namespace

Result<void> AtomicOutputFile::write(std::span<const std::byte> bytes) {
  return append(bytes.size(), [&](std::span<std::byte> into) -> Result<void> {
    std::memcpy(into.data(), bytes.data(), into.size());
    bytes = bytes.subspan(into.size());
    return {};
  });
}

Result<void> AtomicOutputFile::append(std::uint64_t length, const Fill& fill) {
  while (length > 0) {
    if (!buffer_) {
      buffer_.reset(static_cast<std::byte*>(std::aligned_alloc(kBufferAlignment, kBufferBytes)));
      if (!buffer_) throw std::bad_alloc();
    }
    const auto room =
        static_cast<std::size_t>(std::min<std::uint64_t>(length, kBufferBytes - buffered_));
    if (auto filled = fill(std::span(buffer_.get() + buffered_, room)); !filled) return filled;
    buffered_ += room;
    length -= room;
    if (buffered_ == kBufferBytes) {
      if (auto flushed = flush(); !flushed) return flushed;
    }
  }
  return {};
}

bool AtomicOutputFile::write_direct(std::span<const std::byte> bytes, std::uint64_t offset) {
  if (!durable_ || direct_refused_ || bytes.size() != kBufferBytes) return false;
  if (direct_fd_ < 0) direct_fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_DIRECT | O_CLOEXEC);
  // EINVAL, at the open or the first write: not for this file system or device; what the
  // refused write put in the file is written again through the cache.
  if (direct_fd_ >= 0 && pwrite_all(direct_fd_, bytes, offset) == 0) return true;
  direct_refused_ = true;
  return false;
}

Result<void> AtomicOutputFile::flush() {
  const auto bytes = std::span<const std::byte>(buffer_.get(), buffered_);
  const bool direct = write_direct(bytes, written_);
  if (!direct) {
    if (int err = pwrite_all(fd_, bytes, written_); err != 0)
      return io_error(temp_path_, "write", err);
  }
  written_ += buffered_;
  buffered_ = 0;
  if (direct) {
    writeback_from_ = written_;  // on the disk already
  } else if (durable_ && written_ - writeback_from_ >= kWritebackStride) {
    start_writeback();
  }
  return {};
}

void AtomicOutputFile::start_writeback() {
  // Starts the writes without waiting for them (it blocks only while the device's queue
  // is full); advisory: where a file system refuses it, commit()'s fsync does it all.
  ::sync_file_range(fd_, static_cast<off_t>(writeback_from_),
                    static_cast<off_t>(written_ - writeback_from_), SYNC_FILE_RANGE_WRITE);
  writeback_from_ = written_;
}

Result<void> AtomicOutputFile::commit() {
  if (buffered_ > 0) {
    if (auto flushed = flush(); !flushed) return flushed;
  }
  if (durable_ && ::fsync(fd_) != 0) return io_error(temp_path_, "fsync", errno);
  if (direct_fd_ >= 0) ::close(std::exchange(direct_fd_, -1));
  if (::close(std::exchange(fd_, -1)) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    return io_error(temp_path_, "close", err);
  }
  if (::rename(temp_path_.c_str(), destination_.c_str()) != 0) {
    int err = errno;
    ::unlink(temp_path_.c_str());
    return io_error(destination_, "rename the finished archive to", err);
  }
  if (!durable_) return {};
  // Make the rename itself durable.
  auto dir = destination_.parent_path();
  int dir_fd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd >= 0) {
    ::fsync(dir_fd);
    ::close(dir_fd);
  }
  return {};
}

}  // namespace smpack
