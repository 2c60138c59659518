#include "archive/repetition_probe.h"

#include <gtest/gtest.h>

#include <string>

#include "archive/gzip_codec.h"
#include "archive/huffman_deflate.h"
#include "test_support.h"

namespace smpack {
namespace {

std::span<const std::byte> bytes_of(const std::string& s) {
  return std::as_bytes(std::span(s));
}

std::string source_text(std::size_t size) {
  std::string text;
  for (int line = 0; text.size() < size; ++line) {
    text += "def predict_fn(data, model):  # line " + std::to_string(line) +
            "\n    return model(data)\n";
  }
  text.resize(size);
  return text;
}

TEST(RepetitionProbe, WeightsHaveNoLocalRepeats) {
  EXPECT_FALSE(has_local_repeats(bytes_of(testing::normal_floats(1 << 18, 1))));
}

TEST(RepetitionProbe, TextAndZerosHaveThem) {
  EXPECT_TRUE(has_local_repeats(bytes_of(source_text(1 << 20))));
  EXPECT_TRUE(has_local_repeats(bytes_of(std::string(1 << 20, '\0'))));
}

TEST(RepetitionProbe, ARepetitiveQuarterIsEnough) {
  // Text in the first quarter only: one sample of four sees it, and LZ77 still pays.
  std::string mixed = source_text(1 << 18) + testing::normal_floats(3 << 16, 2);
  EXPECT_TRUE(has_local_repeats(bytes_of(mixed)));
}

TEST(RepetitionProbe, SmallInputCountsAsRepetitive) {
  EXPECT_TRUE(has_local_repeats(bytes_of(testing::normal_floats(8 << 10, 4))));
}

// The deflate of a gzip member: the bytes between the 10-byte header and the trailer.
std::vector<std::byte> deflate_of_member(const std::string& input, int level) {
  std::vector<std::byte> member;
  EXPECT_TRUE(append_gzip_member(bytes_of(input), level, member));
  return {member.begin() + kGzipHeaderBytes, member.end() - kGzipTrailerBytes};
}

TEST(GzipCodec, LevelOneWritesWeightsAsOneHuffmanBlockAndTextWithIsal) {
  const std::string weights = testing::normal_floats(1 << 18, 5);
  std::vector<std::byte> huffman;
  ASSERT_TRUE(append_huffman_deflate(bytes_of(weights), huffman));
  EXPECT_EQ(deflate_of_member(weights, 1), huffman);
  EXPECT_NE(deflate_of_member(weights, 2), huffman) << "levels 2-3 stay with ISA-L";

  const std::string text = source_text(1 << 20);
  std::vector<std::byte> text_huffman;
  ASSERT_TRUE(append_huffman_deflate(bytes_of(text), text_huffman));
  EXPECT_LT(deflate_of_member(text, 1).size(), text_huffman.size() / 2)
      << "text keeps LZ77's matches";
}

}  // namespace
}  // namespace smpack
