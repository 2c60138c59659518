#include "smpack/zip_reader.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "weight_fixtures.h"

namespace smpack {
namespace {

using testing::build_zip;
using testing::ZipMember;

bool has_problem(const std::vector<WeightProblem>& problems, WeightProblemKind kind,
                 std::string_view text) {
  return std::any_of(problems.begin(), problems.end(), [&](const auto& p) {
    return p.kind == kind && p.message.find(text) != std::string::npos;
  });
}

ZipDirectory read_directory(const std::string& zip) {
  MemoryByteSource source(zip);
  auto directory = read_zip_directory(source, "model.pt");
  EXPECT_TRUE(directory.has_value());
  return directory.value_or(ZipDirectory{});
}

std::string member_text(const std::string& zip, const ZipEntry& entry,
                        ZipMemberData* out = nullptr) {
  MemoryByteSource source(zip);
  auto data = read_zip_member(source, entry, "model.pt", 1 << 20);
  EXPECT_TRUE(data.has_value());
  if (out) *out = *data;
  return std::string(reinterpret_cast<const char*>(data->bytes.data()), data->bytes.size());
}

TEST(ZipReader, ReadsStoredAndDeflatedMembers) {
  std::string big(10000, 'w');
  std::string zip =
      build_zip({ZipMember("a/data.pkl", "pickle"), ZipMember("a/data/0", big).deflated()});
  ZipDirectory directory = read_directory(zip);
  EXPECT_TRUE(directory.complete);
  EXPECT_TRUE(directory.problems.empty()) << directory.problems.front().message;
  ASSERT_EQ(directory.entries.size(), 2u);
  EXPECT_EQ(directory.entries[1].method, 8);
  ZipMemberData data;
  EXPECT_EQ(member_text(zip, directory.entries[0]), "pickle");
  EXPECT_EQ(member_text(zip, directory.entries[1], &data), big);
  EXPECT_TRUE(data.complete);
}

TEST(ZipReader, ReadsZip64Records) {
  std::string zip = build_zip({ZipMember("a/version", "3\n")}, /*zip64=*/true);
  ZipDirectory directory = read_directory(zip);
  EXPECT_TRUE(directory.problems.empty()) << directory.problems.front().message;
  ASSERT_EQ(directory.entries.size(), 1u);
  EXPECT_EQ(directory.entries[0].uncompressed_size, 2u);
  EXPECT_EQ(member_text(zip, directory.entries[0]), "3\n");
}

TEST(ZipReader, NameMismatchBetweenLocalHeaderAndDirectory) {
  std::string zip = build_zip({ZipMember("a/data.pkl", "x").with_local_name("a/evil.pkl")});
  ZipDirectory directory = read_directory(zip);
  EXPECT_TRUE(has_problem(directory.problems, WeightProblemKind::zip_name_mismatch,
                          "model.pt: entry 'a/data.pkl' (local header at offset 0) is named "
                          "'a/evil.pkl'"));
}

// A second zip in the first one's comment: zipfile and miniz take the last end record,
// a reader that wants the comment to end the file takes the first.
TEST(ZipReader, TwoEndRecordsAreAmbiguous) {
  const std::string benign = build_zip({ZipMember("a/data.pkl", "benign")});
  const std::string evil = build_zip({ZipMember("a/data.pkl", "evil")});
  std::string zip = benign;
  const std::size_t end = zip.rfind("PK\x05\x06");
  zip[end + 20] = static_cast<char>(evil.size() & 0xFF);
  zip[end + 21] = static_cast<char>(evil.size() >> 8);
  zip += evil;
  EXPECT_TRUE(has_problem(read_directory(zip).problems, WeightProblemKind::zip_header_mismatch,
                          "2 end of central directory records"));
  EXPECT_FALSE(has_problem(read_directory(benign).problems, WeightProblemKind::zip_header_mismatch,
                           "end of central directory"));
}

TEST(ZipReader, DuplicateAndCaseFoldedNames) {
  std::string zip = build_zip(
      {ZipMember("a/data.pkl", "1"), ZipMember("a/data.pkl", "2"), ZipMember("a/DATA.pkl", "3")});
  ZipDirectory directory = read_directory(zip);
  EXPECT_TRUE(has_problem(directory.problems, WeightProblemKind::zip_duplicate_name,
                          "both named 'a/data.pkl'"));
  EXPECT_TRUE(has_problem(directory.problems, WeightProblemKind::zip_duplicate_name,
                          "'a/DATA.pkl' differ only in case"));
}

TEST(ZipReader, OverlappingMembers) {
  // The second directory record points into the first member's data.
  std::string zip =
      build_zip({ZipMember("a", std::string(100, 'x')), ZipMember("b", "y").at_offset(40)});
  // Plant a local header for "b" at offset 40 so that it is located.
  std::string header = build_zip({ZipMember("b", "y")}).substr(0, 32);
  zip.replace(40, header.size(), header);
  ZipDirectory directory = read_directory(zip);
  EXPECT_TRUE(has_problem(directory.problems, WeightProblemKind::zip_overlap,
                          "entry 'a' (bytes 0..131) overlaps entry 'b'"));
}

TEST(ZipReader, CrcMismatchIsReportedWhenReading) {
  std::string zip = build_zip({ZipMember("a/data.pkl", "payload").with_crc(0x1234)});
  ZipDirectory directory = read_directory(zip);
  ZipMemberData data;
  member_text(zip, directory.entries[0], &data);
  EXPECT_FALSE(data.complete);
  EXPECT_TRUE(has_problem(data.problems, WeightProblemKind::zip_crc_mismatch,
                          "model.pt: entry 'a/data.pkl' has CRC-32"));
}

TEST(ZipReader, EncryptedAndUnusualFlagBits) {
  std::string zip =
      build_zip({ZipMember("x", "1").with_flags(1), ZipMember("y", "2").with_flags(1 << 5)});
  ZipDirectory directory = read_directory(zip);
  EXPECT_TRUE(has_problem(directory.problems, WeightProblemKind::zip_flags,
                          "entry 'x' is marked encrypted"));
  EXPECT_TRUE(has_problem(directory.problems, WeightProblemKind::zip_flags,
                          "entry 'y' has unusual general-purpose flag bits 0x20"));
}

TEST(ZipReader, SizeLieIsCaughtWhileInflating) {
  std::string zip = build_zip({ZipMember("bomb", std::string(100000, '\0')).deflated()});
  // Claim 10 uncompressed bytes in the directory (and the local header, so they agree).
  std::size_t central = zip.find("PK\x01\x02");
  zip.replace(central + 24, 4, std::string("\x0a\0\0\0", 4));
  zip.replace(22, 4, std::string("\x0a\0\0\0", 4));
  ZipDirectory directory = read_directory(zip);
  ZipMemberData data;
  member_text(zip, directory.entries[0], &data);
  EXPECT_TRUE(has_problem(data.problems, WeightProblemKind::zip_header_mismatch,
                          "holds more than the 10 bytes"));
  EXPECT_LE(data.bytes.size(), 11u);
}

TEST(ZipReader, BrokenStructures) {
  EXPECT_TRUE(has_problem(read_directory("PK\x03\x04 not really a zip at all").problems,
                          WeightProblemKind::zip_malformed, "no end of central directory"));
  std::string zip = build_zip({ZipMember("a", "1"), ZipMember("b", "2")});
  std::size_t end = zip.find("PK\x05\x06");
  zip[end + 8] = zip[end + 10] = 5;  // announce five entries
  ZipDirectory directory = read_directory(zip);
  EXPECT_FALSE(directory.complete);
  EXPECT_TRUE(
      has_problem(directory.problems, WeightProblemKind::zip_malformed, "announced 5 entries"));
  std::string trailing = build_zip({ZipMember("a", "1")}) + "junk";
  EXPECT_TRUE(has_problem(read_directory(trailing).problems, WeightProblemKind::zip_malformed,
                          "trailing data after the end of central directory"));
}

TEST(ZipReader, CentralDirectoryOutsideTheWindowIsNotAvailable) {
  std::string zip = build_zip({ZipMember("a/data.pkl", std::string(5000, 'p'))});
  std::vector<std::byte> head(reinterpret_cast<const std::byte*>(zip.data()),
                              reinterpret_cast<const std::byte*>(zip.data()) + 100);
  std::vector<std::byte> tail(reinterpret_cast<const std::byte*>(zip.data()) + zip.size() - 22,
                              reinterpret_cast<const std::byte*>(zip.data()) + zip.size());
  WindowByteSource window(zip.size(), head, tail);
  auto directory = read_zip_directory(window, "model.tar.gz!model.pt");
  ASSERT_TRUE(directory.has_value());
  EXPECT_FALSE(directory->complete);
  EXPECT_TRUE(has_problem(directory->problems, WeightProblemKind::not_available,
                          "model.tar.gz!model.pt: the central directory"));
}

}  // namespace
}  // namespace smpack
