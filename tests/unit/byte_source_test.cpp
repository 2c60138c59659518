#include "smpack/byte_source.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace smpack {
namespace {

std::vector<std::byte> bytes_of(std::string_view text) {
  return {reinterpret_cast<const std::byte*>(text.data()),
          reinterpret_cast<const std::byte*>(text.data()) + text.size()};
}

std::string read_text(const ByteSource& source, std::uint64_t offset, std::size_t length) {
  std::string out(length, '\0');
  auto read = source.read_at(offset, std::as_writable_bytes(std::span(out)));
  return read ? out : "error: " + read.error().message;
}

TEST(ByteSource, MemoryHoldsEverythingAndRefusesPastTheEnd) {
  MemoryByteSource source(std::string_view("0123456789"));
  EXPECT_EQ(read_text(source, 2, 3), "234");
  EXPECT_EQ(source.held_from(4), 6u);
  EXPECT_FALSE(source.holds(8, 3));
  EXPECT_NE(read_text(source, 8, 3).find("not available"), std::string::npos);
}

TEST(ByteSource, WindowHoldsHeadAndTailOnly) {
  WindowByteSource source(100, bytes_of("head"), bytes_of("tail"));
  EXPECT_EQ(source.size(), 100u);
  EXPECT_EQ(read_text(source, 0, 4), "head");
  EXPECT_EQ(read_text(source, 96, 4), "tail");
  EXPECT_EQ(source.held_from(2), 2u);
  EXPECT_EQ(source.held_from(50), 0u);
  std::string missing = read_text(source, 2, 4);
  EXPECT_NE(missing.find("bytes 2..6 of a 100-byte file are not available"), std::string::npos)
      << missing;
  EXPECT_NE(missing.find("first 4 and the last 4 bytes"), std::string::npos);
}

TEST(ByteSource, WindowsThatMeetReadAcross) {
  WindowByteSource source(8, bytes_of("abcde"), bytes_of("defgh"));
  EXPECT_EQ(source.held_from(1), 7u);
  EXPECT_EQ(read_text(source, 3, 5), "defgh");
}

TEST(ByteSource, SliceIsAFileOfItsOwn) {
  MemoryByteSource parent(std::string_view("xxHELLOyy"));
  SliceByteSource slice(parent, 2, 5);
  EXPECT_EQ(slice.size(), 5u);
  EXPECT_EQ(read_text(slice, 0, 5), "HELLO");
  EXPECT_NE(read_text(slice, 3, 5).find("not available"), std::string::npos);
  SliceByteSource past_end(parent, 7, 100);
  EXPECT_EQ(past_end.size(), 2u);
}

TEST(ByteSource, FileReadsWithPread) {
  const char* tmp = std::getenv("SMPACK_TEST_TMP");
  std::filesystem::path dir = tmp ? tmp : std::filesystem::temp_directory_path();
  std::filesystem::create_directories(dir);
  std::filesystem::path path = dir / "byte_source_test.bin";
  std::ofstream(path, std::ios::binary) << "file contents";
  auto source = FileByteSource::open(path);
  ASSERT_TRUE(source.has_value());
  EXPECT_EQ(source->size(), 13u);
  EXPECT_EQ(read_text(*source, 5, 8), "contents");
  EXPECT_NE(read_text(*source, 10, 8).find("not available"), std::string::npos);
  EXPECT_FALSE(FileByteSource::open(dir / "missing.bin").has_value());
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace smpack
