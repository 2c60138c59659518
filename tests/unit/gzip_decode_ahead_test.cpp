#include "archive/gzip_decode_ahead.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "archive/gzip_codec.h"
#include "test_support.h"

namespace smpack {
namespace {

std::vector<std::byte> members_of(const std::vector<std::string>& parts) {
  std::vector<std::byte> out;
  for (const auto& part : parts) {
    EXPECT_TRUE(append_gzip_member(std::as_bytes(std::span(part)), 1, out));
  }
  return out;
}

// A decoder over `bytes`, read 4093 bytes at a time; `served` counts what it read.
GzipDecoder decoder_of(const std::vector<std::byte>& bytes, std::atomic<std::size_t>& served) {
  return GzipDecoder(
      [&bytes, &served](std::span<std::byte> out) -> Result<std::size_t> {
        const std::size_t at = served;
        const std::size_t n = std::min<std::size_t>({out.size(), bytes.size() - at, 4093});
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
        served += n;
        return n;
      },
      "test.gz");
}

struct Decoded {
  std::string bytes;
  std::vector<GzipMemberInfo> members;
  std::optional<Error> error;
};

Decoded decode_directly(const std::vector<std::byte>& input) {
  std::atomic<std::size_t> served = 0;
  GzipDecoder decoder = decoder_of(input, served);
  Decoded out;
  decoder.set_member_observer([&](const GzipMemberInfo& m) { out.members.push_back(m); });
  std::vector<std::byte> block(1000);
  for (;;) {
    auto got = decoder.read(block);
    if (!got) {
      out.error = got.error();
      return out;
    }
    if (*got == 0) return out;
    out.bytes.append(reinterpret_cast<const char*>(block.data()), *got);
  }
}

Decoded decode_ahead(const std::vector<std::byte>& input) {
  std::atomic<std::size_t> served = 0;
  Decoded out;
  const auto reader = std::this_thread::get_id();
  GzipDecodeAhead ahead(
      decoder_of(input, served),
      [&](const GzipMemberInfo& m) {
        EXPECT_EQ(std::this_thread::get_id(), reader) << "the observer runs on the reader's thread";
        out.members.push_back(m);
      },
      1000, 2);
  for (;;) {
    auto got = ahead.next();
    if (!got) {
      out.error = got.error();
      return out;
    }
    if (got->empty()) return out;
    out.bytes.append(reinterpret_cast<const char*>(got->data()), got->size());
    EXPECT_EQ(ahead.members(), out.members.size() + 1) << "the member being read has started";
  }
}

void expect_same_members(const std::vector<GzipMemberInfo>& a,
                         const std::vector<GzipMemberInfo>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].file_offset, b[i].file_offset) << i;
    EXPECT_EQ(a[i].file_bytes, b[i].file_bytes) << i;
    EXPECT_EQ(a[i].decoded_bytes, b[i].decoded_bytes) << i;
  }
}

TEST(GzipDecodeAhead, GivesTheDecodersBytesAndMembersInOrder) {
  const std::string weights = testing::normal_floats(50'000, 3);
  const auto input = members_of({weights, "", std::string(30'000, 'x'), "tail"});
  const Decoded direct = decode_directly(input);
  ASSERT_FALSE(direct.error);
  const Decoded ahead = decode_ahead(input);
  ASSERT_FALSE(ahead.error) << ahead.error->message;
  EXPECT_EQ(ahead.bytes, weights + std::string(30'000, 'x') + "tail");
  ASSERT_EQ(ahead.members.size(), 4u);
  expect_same_members(ahead.members, direct.members);
}

TEST(GzipDecodeAhead, HandsOverTheDataBeforeAnErrorThenTheError) {
  const std::string first = testing::normal_floats(20'000, 5);
  auto input = members_of({first, "world"});
  input[input.size() - 6] ^= std::byte{1};  // the second member's CRC
  const Decoded direct = decode_directly(input);
  const Decoded ahead = decode_ahead(input);
  ASSERT_TRUE(direct.error);
  ASSERT_TRUE(ahead.error);
  EXPECT_EQ(ahead.error->message, direct.error->message);
  EXPECT_NE(ahead.error->message.find("CRC-32 mismatch (gzip member 1,"), std::string::npos);
  EXPECT_EQ(ahead.bytes, first + "world");
  expect_same_members(ahead.members, direct.members);
}

TEST(GzipDecodeAhead, ReportsTheFirstHeaderAndWhereTheReaderIs) {
  const auto input = members_of({"abc", "def"});
  std::atomic<std::size_t> served = 0;
  GzipDecodeAhead ahead(decoder_of(input, served), {}, 1000, 2);
  auto got = ahead.next();
  ASSERT_TRUE(got);
  EXPECT_TRUE(ahead.first_header().present);
  EXPECT_EQ(ahead.first_header().os, static_cast<std::uint8_t>(input[9]));
  while (got && !got->empty()) got = ahead.next();
  ASSERT_TRUE(got);
  EXPECT_EQ(ahead.compressed_offset(), input.size());
  EXPECT_EQ(ahead.members(), 2u);
}

TEST(GzipDecodeAhead, StopsDecodingWhenTheReaderLeavesEarly) {
  const auto input = members_of({testing::normal_floats(2'000'000, 9)});  // ~7 MiB
  std::atomic<std::size_t> served = 0;
  {
    GzipDecodeAhead ahead(decoder_of(input, served), {}, 1000, 2);
    ASSERT_TRUE(ahead.next());
  }  // joins the decoding thread, which is blocked on a full queue
  // Two blocks ahead of one read are a few KiB of input, not the whole file.
  EXPECT_LT(served.load(), input.size() / 4);
}

}  // namespace
}  // namespace smpack
