#include "archive/repetition_probe.h"

#include <gtest/gtest.h>

#include <cstring>
#include <limits>
#include <random>
#include <string>

#include "archive/gzip_codec.h"
#include "archive/huffman_deflate.h"
#include "test_support.h"

namespace smpack {
namespace {

constexpr std::size_t kAnySize = std::numeric_limits<std::size_t>::max();

std::string source_text(std::size_t size) {
  std::string text;
  for (int line = 0; text.size() < size; ++line) {
    text += "def predict_fn(data, model):  # line " + std::to_string(line) +
            "\n    return model(data)\n";
  }
  text.resize(size);
  return text;
}

TEST(RepetitionProbe, LZ77DoesNotPayOnWeights) {
  EXPECT_FALSE(lz77_pays(testing::as_bytes_of(testing::normal_floats(1 << 18, 1))));
  EXPECT_FALSE(lz77_pays(testing::as_bytes_of(testing::bfloat16_weights(1 << 19, 1))));
}

TEST(RepetitionProbe, LZ77PaysOnTextAndZeros) {
  EXPECT_TRUE(lz77_pays(testing::as_bytes_of(source_text(1 << 20))));
  EXPECT_TRUE(lz77_pays(testing::as_bytes_of(std::string(1 << 20, '\0'))));
}

TEST(RepetitionProbe, ARepetitiveQuarterIsEnough) {
  // Text in the first quarter only: one sample of four sees it, and LZ77 still pays.
  std::string mixed = source_text(1 << 18) + testing::normal_floats(3 << 16, 2);
  EXPECT_TRUE(lz77_pays(testing::as_bytes_of(mixed)));
}

TEST(RepetitionProbe, SmallChunksGoToLZ77) {
  std::string weights = testing::normal_floats(kRepetitionProbeMinBytes / 4, 4);
  EXPECT_FALSE(lz77_pays(testing::as_bytes_of(weights)));
  weights.pop_back();
  EXPECT_TRUE(lz77_pays(testing::as_bytes_of(weights)));
}

// The deflate of a gzip member: the bytes between the 10-byte header and the trailer.
std::vector<std::byte> deflate_of_member(const std::string& input, int level) {
  std::vector<std::byte> member;
  EXPECT_TRUE(append_gzip_member(testing::as_bytes_of(input), level, member));
  return {member.begin() + kGzipHeaderBytes, member.end() - kGzipTrailerBytes};
}

TEST(GzipCodec, LevelOneWritesWeightsAsOneHuffmanBlockAndTextWithIsal) {
  const std::string weights = testing::normal_floats(1 << 18, 5);
  std::vector<std::byte> huffman;
  ASSERT_TRUE(append_huffman_deflate(testing::as_bytes_of(weights), kAnySize, huffman));
  EXPECT_EQ(deflate_of_member(weights, 1), huffman);
  EXPECT_NE(deflate_of_member(weights, 2), huffman) << "levels 2-3 stay with ISA-L";

  const std::string text = source_text(1 << 20);
  std::vector<std::byte> text_huffman;
  ASSERT_TRUE(append_huffman_deflate(testing::as_bytes_of(text), kAnySize, text_huffman));
  EXPECT_LT(deflate_of_member(text, 1).size(), text_huffman.size() / 2)
      << "text keeps LZ77's matches";
}

TEST(GzipCodec, LevelOneHandsWhatTheHuffmanBlockCannotShrinkToIsal) {
  // Random bytes repeating every 8 KiB: the probe's 4 KiB samples see no repeats, the
  // Huffman-only block saves less than 1/32, and ISA-L's 32 KiB window finds many.
  std::mt19937 rng(6);
  std::string period(8 << 10, '\0');
  for (auto& c : period) c = static_cast<char>(rng());
  std::string periodic;
  while (periodic.size() < (1u << 20)) periodic += period;
  ASSERT_FALSE(lz77_pays(testing::as_bytes_of(periodic)));
  EXPECT_LT(deflate_of_member(periodic, 1).size(), periodic.size() * 3 / 4);
}

TEST(GzipCodec, LevelOneStoresWhatNeitherCoderShrinks) {
  std::mt19937 rng(7);
  std::string uniform(1 << 18, '\0');
  for (auto& c : uniform) c = static_cast<char>(rng());
  const auto deflate = deflate_of_member(uniform, 1);
  EXPECT_EQ(static_cast<unsigned>(deflate.front()) & 0b110, 0u) << "BTYPE 00: stored";
  EXPECT_EQ(deflate.size(), uniform.size() + 5 * ((uniform.size() + 65534) / 65535))
      << "5 bytes of header per stored block of at most 65,535 bytes";
}

}  // namespace
}  // namespace smpack
