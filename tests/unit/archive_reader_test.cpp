#include "smpack/archive_reader.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "archive/tar_header.h"
#include "deflate_fixtures.h"
#include "smpack/byte_source.h"

namespace smpack {
namespace {

constexpr std::size_t kDataBytes = 6 << 20;

// A tar of one 6 MiB member and a small one, gzipped with stored blocks (level 0), with
// one bit of the first header's name flipped: the stream inflates without a deflate
// error into a header whose checksum fails, and only its CRC says the gzip is damaged.
std::vector<std::byte> damaged_archive() {
  std::string tar;
  auto append = [&tar](std::string_view name, const std::string& data) {
    const auto header = make_tar_header(name, EntryType::file, 0644, data.size(), 0);
    tar.append(reinterpret_cast<const char*>(header.data()), header.size());
    tar += data;
    tar.append(tar_padding(data.size()), '\0');
  };
  append("weights.bin", std::string(kDataBytes, 'w'));
  append("config.json", "{}\n");
  tar.append(2 * kTarBlock, '\0');
  auto gz = testing::gzip_of(tar, 0);
  const std::string_view name = "weights.bin";
  auto at = std::search(gz.begin(), gz.end(), name.begin(), name.end(),
                        [](std::byte b, char c) { return static_cast<char>(b) == c; });
  EXPECT_NE(at, gz.end());
  *at ^= std::byte{0x01};
  return gz;
}

// The first error of reading every member; the test fails if there is none.
Error first_error(Result<ArchiveReader> opened) {
  if (!opened) return std::move(opened).error();
  for (;;) {
    auto entry = opened->next();
    if (!entry) return std::move(entry).error();
    if (*entry == nullptr) {
      ADD_FAILURE() << "the damaged archive read without an error";
      return Error::internal("no error");
    }
  }
}

TEST(ArchiveReader, ATarErrorFromDamagedGzipDataIsBlamedOnTheStream) {
  const auto gz = damaged_archive();
  const Error error = first_error(ArchiveReader::open_memory(gz, "damaged.tar.gz"));
  EXPECT_EQ(error.kind, ErrorKind::bad_input);
  EXPECT_NE(error.message.find("corrupt gzip data: CRC-32 mismatch"), std::string::npos)
      << error.message;
}

TEST(ArchiveReader, TheStreamIsCheckedOnlyAsFarAsTheLimitAfterATarError) {
  const auto gz = damaged_archive();
  ReadLimits limits;
  limits.max_bytes_after_tar_error = 1 << 20;  // the CRC is 6 MiB on
  const Error error = first_error(ArchiveReader::open_memory(gz, "damaged.tar.gz", limits));
  EXPECT_EQ(error.kind, ErrorKind::bad_input);
  EXPECT_EQ(error.message.find("corrupt gzip data"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("damaged.tar.gz"), std::string::npos) << error.message;
}

TEST(ArchiveReader, ObserversSeeNothingDecodedAfterATarError) {
  const auto gz = damaged_archive();
  const MemoryByteSource source(gz);
  std::uint64_t furthest_boundary = 0;
  std::uint64_t members = 0;
  ArchiveReader::GzipObservers observers;
  observers.member = [&members](const GzipMemberInfo&) { ++members; };
  observers.boundary = [&furthest_boundary](const DeflateBoundary& at, const auto&) {
    furthest_boundary = std::max(furthest_boundary, at.tar_offset);
  };
  const Error error = first_error(
      ArchiveReader::open_source_observed(source, "damaged.tar.gz", {}, std::move(observers)));
  // The stream was decoded to its CRC to name the cause...
  EXPECT_NE(error.message.find("CRC-32 mismatch"), std::string::npos) << error.message;
  // ...but the splice scan's observer saw only what the tar reader read before it
  // failed (a block or two of 1 MiB), not the 6 MiB after.
  EXPECT_GT(furthest_boundary, 0u);
  EXPECT_LT(furthest_boundary, 3u << 20);
  EXPECT_EQ(members, 0u);
}

}  // namespace
}  // namespace smpack
