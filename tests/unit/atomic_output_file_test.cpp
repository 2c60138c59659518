// This file interposes open(2), which the C library's fortified inline wrapper would
// shadow.
#undef _FORTIFY_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <filesystem>

#include "io/file_io.h"
#include "io/temp_dir.h"
#include "smpack/archive_output.h"
#include "test_support.h"

namespace {
std::atomic<bool> refuse_direct_opens{false};
std::atomic<int> direct_opens_refused{0};
}  // namespace

// open(2) for this test binary, which links the library statically: with
// refuse_direct_opens set, an open with O_DIRECT fails as on a file system without it.
extern "C" int open(const char* path, int flags, ...) {
  mode_t mode = 0;
  if ((flags & O_CREAT) != 0 || (flags & O_TMPFILE) == O_TMPFILE) {
    va_list args;
    va_start(args, flags);
    mode = va_arg(args, mode_t);
    va_end(args);
  }
  if (refuse_direct_opens && (flags & O_DIRECT) != 0) {
    ++direct_opens_refused;
    errno = EINVAL;
    return -1;
  }
  static const auto next_open =
      reinterpret_cast<int (*)(const char*, int, ...)>(::dlsym(RTLD_NEXT, "open"));
  return next_open(path, flags, mode);
}

namespace smpack {
namespace {

namespace fs = std::filesystem;
using testing::as_bytes_of;
using testing::read_file;

constexpr std::size_t MiB = 1 << 20;

std::string numbered_bytes(std::size_t n, unsigned salt) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 7 + salt) % 251);
  return s;
}

// Writes, then a copy, then writes, in pieces that start and end on either side of the
// file's 8 MiB buffer; returns what was given, in order.
std::string write_across_buffer_edges(ArchiveOutput& out) {
  std::string expected;
  auto put = [&](std::string piece) {
    EXPECT_TRUE(out.write(as_bytes_of(piece)));
    expected += piece;
  };
  put(numbered_bytes(1, 1));
  put(numbered_bytes(8 * MiB - 2, 2));
  put(numbered_bytes(3, 3));  // fills the buffer and starts the next
  const std::string source_bytes = numbered_bytes(20 * MiB, 4);
  MemoryByteSource source(source_bytes);
  EXPECT_TRUE(out.copy_from(source, 5, 9 * MiB + 11, nullptr));
  expected += source_bytes.substr(5, 9 * MiB + 11);
  put(numbered_bytes(5, 5));
  return expected;
}

TEST(AtomicOutputFile, KeepsTheOrderOfWritesAndCopiesAcrossItsBuffer) {
  auto dir = TempDir::create("smpack-output-test");
  ASSERT_TRUE(dir);
  for (const bool durable : {true, false}) {
    const fs::path target = dir->path() / (durable ? "durable.tar.gz" : "cached.tar.gz");
    auto out = open_archive_output(target.string(), nullptr, {0, nullptr, durable});
    ASSERT_TRUE(out);
    const std::string expected = write_across_buffer_edges(**out);
    EXPECT_FALSE(fs::exists(target)) << "nothing under the name before commit";
    ASSERT_TRUE((*out)->commit());
    EXPECT_TRUE(read_file(target) == expected) << target;
  }
}

TEST(AtomicOutputFile, AnEmptyFileIsCommittedEmpty) {
  auto dir = TempDir::create("smpack-output-test");
  ASSERT_TRUE(dir);
  const fs::path target = dir->path() / "empty";
  auto out = AtomicOutputFile::create(target);
  ASSERT_TRUE(out);
  ASSERT_TRUE(out->commit());
  EXPECT_EQ(fs::file_size(target), 0u);
}

TEST(AtomicOutputFile, AFailedOrCancelledCopyLeavesNothingBehind) {
  auto dir = TempDir::create("smpack-output-test");
  ASSERT_TRUE(dir);
  const fs::path target = dir->path() / "out.tar.gz";
  {
    auto out = open_archive_output(target.string(), nullptr, {});
    ASSERT_TRUE(out);
    // Holds its first and last bytes only: the copy fails past the head.
    WindowByteSource source(32 * MiB, std::vector<std::byte>(12 * MiB), std::vector<std::byte>(16));
    auto copied = (*out)->copy_from(source, 0, 20 * MiB, nullptr);
    ASSERT_FALSE(copied);
    EXPECT_NE(copied.error().message.find("not available"), std::string::npos)
        << copied.error().message;
    CancelToken cancel;
    cancel.cancel();
    auto cancelled = (*out)->copy_from(source, 0, 1, &cancel);
    ASSERT_FALSE(cancelled);
    EXPECT_EQ(cancelled.error().kind, ErrorKind::interrupted);
  }
  EXPECT_TRUE(fs::is_empty(dir->path())) << "the temporary file is removed";
}

// Whether `dir`'s file system takes O_DIRECT writes of 4 KiB blocks.
bool takes_direct_writes(const fs::path& dir) {
  const fs::path probe = dir / "probe";
  const int fd = ::open(probe.c_str(), O_WRONLY | O_CREAT | O_DIRECT | O_CLOEXEC, 0600);
  if (fd < 0) return false;
  void* block = std::aligned_alloc(4096, 4096);
  std::memset(block, 0, 4096);
  const bool written = ::pwrite(fd, block, 4096, 0) == 4096;
  std::free(block);
  ::close(fd);
  fs::remove(probe);
  return written;
}

// How many of the file's first `bytes` are in the page cache, in pages.
std::size_t cached_pages(const fs::path& path, std::size_t bytes) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  void* map = ::mmap(nullptr, bytes, PROT_READ, MAP_SHARED, fd, 0);
  ::close(fd);
  if (map == MAP_FAILED) return SIZE_MAX;
  const std::size_t page = static_cast<std::size_t>(::sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> resident((bytes + page - 1) / page);
  std::size_t count = 0;
  if (::mincore(map, bytes, resident.data()) == 0) {
    for (unsigned char r : resident) count += r & 1;
  } else {
    count = SIZE_MAX;
  }
  ::munmap(map, bytes);
  return count;
}

TEST(AtomicOutputFile, ADurableFileGoesToTheDiskPastThePageCache) {
  auto dir = TempDir::create("smpack-output-test");
  ASSERT_TRUE(dir);
  if (!takes_direct_writes(dir->path()))
    GTEST_SKIP() << dir->path() << " is on a file system without O_DIRECT";
  const std::string bytes = numbered_bytes(16 * MiB + 100, 6);
  for (const bool durable : {true, false}) {
    const fs::path target = dir->path() / (durable ? "durable" : "cached");
    auto out = AtomicOutputFile::create(target, durable);
    ASSERT_TRUE(out);
    ASSERT_TRUE(out->write(as_bytes_of(bytes)));
    ASSERT_TRUE(out->commit());
    const std::size_t cached = cached_pages(target, 16 * MiB);
    if (durable) {
      EXPECT_EQ(cached, 0u) << "the full buffers were written with O_DIRECT";
    } else {
      EXPECT_GT(cached, 0u) << "a file that is not durable is left to the page cache";
    }
    EXPECT_TRUE(read_file(target) == bytes);
  }
}

TEST(AtomicOutputFile, WhereODirectIsRefusedItWritesThroughThePageCache) {
  auto dir = TempDir::create("smpack-output-test");
  ASSERT_TRUE(dir);
  const fs::path target = dir->path() / "out";
  const std::string bytes = numbered_bytes(24 * MiB + 100, 7);
  refuse_direct_opens = true;
  direct_opens_refused = 0;
  auto out = AtomicOutputFile::create(target);
  const bool created = bool(out);
  const bool written = created && out->write(as_bytes_of(bytes)) && out->commit();
  refuse_direct_opens = false;
  ASSERT_TRUE(written);
  EXPECT_EQ(direct_opens_refused, 1) << "tried once, then not again";
  EXPECT_TRUE(read_file(target) == bytes);
  EXPECT_GT(cached_pages(target, 16 * MiB), 0u);
}

}  // namespace
}  // namespace smpack
