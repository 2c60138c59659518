#include "util/le_bytes.h"

#include <gtest/gtest.h>

#include <array>
#include <limits>

namespace smpack {
namespace {

TEST(LeBytes, ReadsLittleEndianFieldsAndRefusesShortOnes) {
  const std::array<std::byte, 5> bytes = {std::byte{0x34}, std::byte{0x12}, std::byte{0x78},
                                          std::byte{0x56}, std::byte{0xff}};
  EXPECT_EQ(read_le<std::uint16_t>(bytes, 0), 0x1234u);
  EXPECT_EQ(read_le<std::uint32_t>(bytes, 0), 0x56781234u);
  EXPECT_EQ(read_le<std::uint32_t>(bytes, 1), 0xff567812u);
  EXPECT_FALSE(read_le<std::uint32_t>(bytes, 2));  // one byte short
  EXPECT_FALSE(read_le<std::uint16_t>(bytes, 6));  // past the end
  EXPECT_FALSE(read_le<std::uint64_t>(bytes, 0));
}

TEST(LeBytes, StoreAndAppendRoundTripThroughLoad) {
  std::vector<std::byte> out;
  append_le(out, 0x0102030405060708ull, 8);
  append_le(out, 0xbeef, 2);
  ASSERT_EQ(out.size(), 10u);
  EXPECT_EQ(out[0], std::byte{0x08});
  EXPECT_EQ(load_le(out, 8), 0x0102030405060708ull);
  EXPECT_EQ(load_le(std::span(out).subspan(8), 2), 0xbeefu);
  std::array<std::byte, 4> fixed{};
  store_le(fixed.data(), 0xa1b2c3d4, 4);
  EXPECT_EQ(load_le(fixed, 4), 0xa1b2c3d4u);
}

TEST(LeBytes, CheckedAddCatchesOverflow) {
  constexpr auto max = std::numeric_limits<std::uint64_t>::max();
  EXPECT_EQ(checked_add(max - 1, 1), max);
  EXPECT_FALSE(checked_add(max, 1));
  EXPECT_FALSE(checked_add(1ull << 63, 1ull << 63));
}

TEST(LeBytes, StrictSubspanRefusesAnyByteOutside) {
  const std::array<std::byte, 8> bytes{};
  EXPECT_EQ(strict_subspan(bytes, 2, 6)->size(), 6u);
  EXPECT_EQ(strict_subspan(bytes, 8, 0)->size(), 0u);
  EXPECT_FALSE(strict_subspan(bytes, 2, 7));
  EXPECT_FALSE(strict_subspan(bytes, 9, 0));
  // An offset and length that wrap around when added.
  EXPECT_FALSE(strict_subspan(bytes, 4, std::numeric_limits<std::uint64_t>::max()));
}

}  // namespace
}  // namespace smpack
