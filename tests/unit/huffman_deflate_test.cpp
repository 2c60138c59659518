#include "archive/huffman_deflate.h"

#include <gtest/gtest.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>
#include <tuple>

#include "archive/deflate_block_finder.h"
#include "smpack/digest.h"
#include "test_support.h"

namespace smpack {
namespace {

constexpr std::size_t kAnySize = std::numeric_limits<std::size_t>::max();

// zlib's raw inflate, which must end the stream exactly at the last byte written.
std::string zlib_inflate_exactly(const std::vector<std::byte>& raw, std::size_t expected_size) {
  std::string out(expected_size + 1, '\0');
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, -MAX_WBITS), Z_OK);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(inflate(&z, Z_FINISH), Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u) << "the block ends before the bytes written";
  out.resize(z.total_out);
  inflateEnd(&z);
  return out;
}

// ISA-L's inflate: the decoder smpack reads its own archives with.
std::string isal_inflate_all(const std::vector<std::byte>& raw, std::size_t expected_size) {
  std::string out(expected_size + 1, '\0');
  inflate_state state{};
  isal_inflate_init(&state);
  state.crc_flag = ISAL_DEFLATE;
  state.next_in = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(raw.data()));
  state.avail_in = static_cast<std::uint32_t>(raw.size());
  state.next_out = reinterpret_cast<std::uint8_t*>(out.data());
  state.avail_out = static_cast<std::uint32_t>(out.size());
  EXPECT_EQ(isal_inflate(&state), ISAL_DECOMP_OK);
  EXPECT_EQ(state.block_state, ISAL_BLOCK_FINISH);
  out.resize(state.total_out);
  return out;
}

// The block's size, after checking that zlib and ISA-L decode it to `input`.
std::size_t expect_round_trip(const std::string& input, const std::string& what) {
  std::vector<std::byte> raw = {std::byte{0xaa}};  // appends after what is there
  EXPECT_TRUE(append_huffman_deflate(testing::as_bytes_of(input), kAnySize, raw)) << what;
  if (raw.size() < 2) return 0;
  EXPECT_EQ(raw.front(), std::byte{0xaa}) << what;
  raw.erase(raw.begin());
  EXPECT_EQ(zlib_inflate_exactly(raw, input.size()), input) << what;
  EXPECT_EQ(isal_inflate_all(raw, input.size()), input) << what;
  // The block finder looks 14 bits past each symbol of a header, so it judges only a
  // block that goes on for a while after its header.
  if (raw.size() >= 64) {
    EXPECT_TRUE(is_dynamic_block_header(raw, 0)) << what << ": a header with complete codes";
  }
  return raw.size();
}

// Bytes from a skewed distribution, so that they compress under Huffman coding alone.
std::string skewed_bytes(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::geometric_distribution<int> geometric(0.05);
  std::string out(count, '\0');
  for (auto& c : out) c = static_cast<char>(std::min(geometric(rng), 255));
  return out;
}

TEST(HuffmanDeflate, WeightsRoundTripThroughZlibAndIsal) {
  expect_round_trip(testing::normal_floats(1 << 18, 1), "float32");
  expect_round_trip(testing::bfloat16_weights(1 << 19, 2), "bfloat16");
}

TEST(HuffmanDeflate, RunsOfEveryLengthRoundTrip) {
  // Runs of 1-700 bytes, at every phase of the eight-byte steps, cut at the 258-byte
  // limit with the remainder kept at 3 or more.
  std::mt19937 rng(3);
  std::string input = skewed_bytes(16, 4);
  for (std::size_t run = 1; run <= 700; ++run) {
    input.append(run, input.back());
    input += skewed_bytes(rng() % 10, static_cast<unsigned>(run));
  }
  expect_round_trip(input, "runs");
  // Everything after the first byte is one run: the cuts into matches of 3-258.
  for (std::size_t run : {8, 258, 259, 260, 261, 516, 517, 518}) {
    EXPECT_LT(expect_round_trip(std::string(1 + run, 'x'), "run " + std::to_string(run)), 40u);
  }
  // 0xff alone leaves 255 unused literal codes: two zero-run tokens of 138 and 117.
  EXPECT_LT(expect_round_trip(std::string(100'000, '\xff'), "one byte value only"), 1000u)
      << "runs are matches, not literals";
  expect_round_trip(std::string(70'000, '\0') + skewed_bytes(5000, 5), "a run from the start");
}

TEST(HuffmanDeflate, EndsAtEveryPhaseOfTheEightByteSteps) {
  // The last bytes fall outside the eight-byte steps; they are literals, even as a run.
  for (std::size_t tail = 0; tail <= 17; ++tail) {
    expect_round_trip(skewed_bytes(3000 + tail, 11), "tail " + std::to_string(tail));
    expect_round_trip(skewed_bytes(3000, 12) + std::string(tail, 'r'),
                      "run " + std::to_string(tail));
  }
}

TEST(HuffmanDeflate, DeepTreesAreLimitedToFifteenBits) {
  // Fibonacci counts make the unlimited Huffman tree 25 levels deep.
  std::string input;
  std::uint32_t a = 1, b = 1;
  for (int symbol = 0; symbol < 26; ++symbol) {
    input.append(a, static_cast<char>(symbol * 7));
    std::tie(a, b) = std::pair(b, a + b);
  }
  std::shuffle(input.begin(), input.end(), std::mt19937(6));
  expect_round_trip(input, "fibonacci");
}

TEST(HuffmanDeflate, ABlockNotSmallerThanTheLimitIsNotWritten) {
  const std::string input = skewed_bytes(50'000, 7);
  const std::size_t size = expect_round_trip(input, "skewed");
  std::vector<std::byte> out = {std::byte{1}, std::byte{2}};
  EXPECT_FALSE(append_huffman_deflate(testing::as_bytes_of(input), size, out));
  EXPECT_FALSE(append_huffman_deflate({}, kAnySize, out));
  EXPECT_EQ(out, (std::vector<std::byte>{std::byte{1}, std::byte{2}}));
  EXPECT_TRUE(append_huffman_deflate(testing::as_bytes_of(input), size + 1, out));
  EXPECT_EQ(out.size(), 2 + size) << "the size is known before the block is written";
}

TEST(HuffmanDeflate, TheBytesAreFixedByTheInput) {
  // The archive's bytes are reproducible across versions only if this block is; a
  // change to the code construction must change this digest knowingly.
  // bfloat16-like pairs from xorshift64, so that no library's distributions are involved.
  std::string input(1 << 18, '\0');
  std::uint64_t state = 88172645463325252ull;
  for (std::size_t i = 0; i < input.size(); i += 2) {
    state ^= state << 13;
    state ^= state >> 7;
    state ^= state << 17;
    input[i] = static_cast<char>(state);
    input[i + 1] = static_cast<char>(0x3c + (state >> 8) % 3 + ((state >> 16) % 4 == 0 ? 0x80 : 0));
  }
  input.append(300, '\0');
  std::vector<std::byte> block;
  ASSERT_TRUE(append_huffman_deflate(testing::as_bytes_of(input), kAnySize, block));
  Hasher sha;
  sha.update(block);
  EXPECT_EQ(sha.finish_hex(), "537f8d54c556805a0cf42286b123805bc75a171ef6fbc74c149285e4a8d3c29e");
}

TEST(HuffmanDeflate, WeightsCompressNoWorseThanZlibSix) {
  for (const auto& weights :
       {testing::normal_floats(1 << 18, 8), testing::bfloat16_weights(1 << 19, 9)}) {
    std::vector<std::byte> huffman;
    ASSERT_TRUE(append_huffman_deflate(testing::as_bytes_of(weights), kAnySize, huffman));
    uLongf zlib_size = compressBound(static_cast<uLong>(weights.size()));
    std::vector<Bytef> zlib6(zlib_size);
    ASSERT_EQ(compress2(zlib6.data(), &zlib_size, reinterpret_cast<const Bytef*>(weights.data()),
                        static_cast<uLong>(weights.size()), 6),
              Z_OK);
    EXPECT_LE(huffman.size(), zlib_size - 6) << "zlib's 2-byte header and 4-byte Adler-32 aside";
  }
}

double kraft_sum(const std::vector<std::uint8_t>& lengths) {
  double sum = 0;
  for (auto length : lengths) sum += length ? std::ldexp(1.0, -length) : 0.0;
  return sum;
}

TEST(HuffmanCodeLengths, OptimalWhereTheLimitAllows) {
  std::vector<std::uint32_t> frequencies = {4, 0, 1, 2, 1};
  std::vector<std::uint8_t> lengths(frequencies.size());
  huffman_code_lengths(frequencies, 15, lengths);
  EXPECT_EQ(lengths, (std::vector<std::uint8_t>{1, 0, 3, 2, 3}));
}

TEST(HuffmanCodeLengths, LimitedCodesAreComplete) {
  std::mt19937 rng(10);
  for (int round = 0; round < 200; ++round) {
    // The alphabets deflate codes: literal/length (286 symbols, 15 bits) and code
    // length (19 symbols, 7 bits).
    const unsigned limit = (round % 2) ? 7 : 15;
    const std::size_t symbols = 2 + rng() % (limit == 7 ? 18 : 285);
    std::vector<std::uint32_t> frequencies(symbols);
    for (auto& f : frequencies)
      f = (rng() % 3 == 0) ? 0 : (1u << (rng() % 24)) + static_cast<std::uint32_t>(rng() % 5);
    frequencies.front() = 1;
    frequencies.back() = 1u << 24;
    std::vector<std::uint8_t> lengths(symbols);
    huffman_code_lengths(frequencies, limit, lengths);
    for (std::size_t s = 0; s < symbols; ++s) {
      EXPECT_LE(lengths[s], limit);
      EXPECT_EQ(lengths[s] != 0, frequencies[s] != 0) << s;
    }
    EXPECT_EQ(kraft_sum(lengths), 1.0) << "round " << round;
  }
}

TEST(HuffmanCodeLengths, FibonacciCountsReachTheLimitExactly) {
  std::vector<std::uint32_t> frequencies = {1, 1};
  while (frequencies.size() < 30)
    frequencies.push_back(frequencies.end()[-1] + frequencies.end()[-2]);
  std::vector<std::uint8_t> lengths(frequencies.size());
  huffman_code_lengths(frequencies, 15, lengths);
  EXPECT_EQ(*std::max_element(lengths.begin(), lengths.end()), 15);
  EXPECT_EQ(kraft_sum(lengths), 1.0);
  EXPECT_EQ(lengths.back(), 1) << "the most frequent symbol keeps the shortest code";
}

TEST(HuffmanCodeLengths, ASingleSymbolGetsAPartner) {
  std::vector<std::uint8_t> lengths(4);
  huffman_code_lengths(std::vector<std::uint32_t>{0, 0, 9, 0}, 7, lengths);
  EXPECT_EQ(lengths, (std::vector<std::uint8_t>{1, 0, 1, 0}));
  huffman_code_lengths(std::vector<std::uint32_t>{9, 0, 0, 0}, 7, lengths);
  EXPECT_EQ(lengths, (std::vector<std::uint8_t>{1, 1, 0, 0}));
  huffman_code_lengths(std::vector<std::uint32_t>{0, 0, 0, 0}, 7, lengths);
  EXPECT_EQ(lengths, (std::vector<std::uint8_t>{0, 0, 0, 0}));
}

}  // namespace
}  // namespace smpack
