#include "archive/block_range_inflater.h"

#include <gtest/gtest.h>

#include "deflate_fixtures.h"
#include "test_support.h"

namespace smpack {
namespace {

struct Stretch {
  std::string bytes;
  BlockRangeInflater::End end = BlockRangeInflater::End::running;
  std::uint64_t trailer_offset = 0;
};

Stretch inflate(const ByteSource& file, std::uint64_t start, std::uint64_t stop,
                std::span<const std::byte> window) {
  BlockRangeInflater inflater(file, start, stop, window);
  Stretch out;
  std::vector<std::byte> block(7777);
  for (;;) {
    auto got = inflater.read(block);
    EXPECT_TRUE(got) << got.error().message;
    if (!got || *got == 0) break;
    out.bytes.append(reinterpret_cast<const char*>(block.data()), *got);
  }
  out.end = inflater.end();
  out.trailer_offset = inflater.trailer_offset();
  return out;
}

TEST(BlockRangeInflater, StopsExactlyAtABlockBoundaryAnywhereInAByte) {
  const auto content = testing::normal_floats(400'000, 9);
  const auto file = testing::gzip_of(content, 6);
  MemoryByteSource source(file);
  const std::vector<std::byte> raw(file.begin() + 10, file.end() - 8);
  std::vector<std::uint64_t> starts;
  for (auto bit : testing::block_starts(raw)) starts.push_back(bit + 80);
  ASSERT_GT(starts.size(), 10u);
  std::size_t unaligned = 0;

  std::uint64_t decoded = 0;
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
    const auto window = std::as_bytes(std::span(content))
                            .subspan(decoded > 32768 ? decoded - 32768 : 0,
                                     std::min<std::uint64_t>(decoded, 32768));
    const auto stretch = inflate(source, starts[i], starts[i + 1], window);
    ASSERT_EQ(stretch.end, BlockRangeInflater::End::at_stop) << "block " << i;
    ASSERT_TRUE(stretch.bytes == content.substr(decoded, stretch.bytes.size())) << "block " << i;
    // A stop a few bits off the boundary is no stop.
    EXPECT_EQ(inflate(source, starts[i], starts[i + 1] + 3, window).end,
              BlockRangeInflater::End::not_a_boundary);
    EXPECT_EQ(inflate(source, starts[i], starts[i + 1] - 1, window).end,
              BlockRangeInflater::End::not_a_boundary);
    if (starts[i] % 8 != 0) ++unaligned;
    decoded += stretch.bytes.size();
  }
  EXPECT_GT(unaligned, 0u);
  // The last block runs to the member's end, and the trailer follows it.
  const auto window = std::as_bytes(std::span(content)).subspan(decoded - 32768, 32768);
  const auto last = inflate(source, starts.back(), file.size() * 8, window);
  EXPECT_EQ(last.end, BlockRangeInflater::End::final_block);
  EXPECT_EQ(last.trailer_offset, file.size() - 8);
  EXPECT_TRUE(last.bytes == content.substr(decoded));
}

}  // namespace
}  // namespace smpack
