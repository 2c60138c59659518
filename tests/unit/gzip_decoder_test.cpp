#include "archive/gzip_decoder.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include "archive/gzip_codec.h"
#include "test_support.h"

namespace smpack {
namespace {

std::vector<std::byte> members_of(const std::vector<std::string>& parts, int level) {
  std::vector<std::byte> out;
  for (const auto& part : parts) {
    auto ok = append_gzip_member(std::as_bytes(std::span(part)), level, out);
    EXPECT_TRUE(ok);
  }
  return out;
}

Result<std::string> decode(const std::vector<std::byte>& bytes) {
  std::size_t at = 0;
  GzipDecoder decoder(
      [&](std::span<std::byte> out) -> Result<std::size_t> {
        // Small reads, to cross member boundaries at awkward places.
        std::size_t n = std::min<std::size_t>({out.size(), bytes.size() - at, 4093});
        std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
        at += n;
        return n;
      },
      "test.gz");
  std::string result;
  std::vector<std::byte> buffer(3001);
  for (;;) {
    auto got = decoder.read(buffer);
    if (!got) return std::move(got).error();
    if (*got == 0) break;
    result.append(reinterpret_cast<const char*>(buffer.data()), *got);
  }
  return result;
}

// zlib's own gzip reader (16 + MAX_WBITS), member after member: an independent oracle.
std::string zlib_decode(const std::vector<std::byte>& bytes) {
  std::string out;
  z_stream z{};
  inflateInit2(&z, 16 + MAX_WBITS);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(bytes.data()));
  z.avail_in = static_cast<uInt>(bytes.size());
  char buf[65536];
  while (z.avail_in > 0) {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof buf;
    int rc = inflate(&z, Z_NO_FLUSH);
    out.append(buf, sizeof buf - z.avail_out);
    if (rc == Z_STREAM_END) {
      inflateReset(&z);
    } else if (rc != Z_OK) {
      break;
    }
  }
  inflateEnd(&z);
  return out;
}

TEST(GzipCodec, EveryLevelIsReadByZlibAndByTheDecoder) {
  std::string weights = testing::normal_floats(300'000, 7);
  std::string text(200'000, 'a');
  for (int level = 0; level <= 9; ++level) {
    auto bytes = members_of({weights, "", text, "tail"}, level);
    EXPECT_EQ(zlib_decode(bytes), weights + text + "tail") << "level " << level;
    auto decoded = decode(bytes);
    ASSERT_TRUE(decoded) << decoded.error().message;
    EXPECT_EQ(*decoded, weights + text + "tail") << "level " << level;
  }
}

TEST(GzipCodec, IsalLevelsBeatZlibSixOnFloatWeights) {
  std::string weights = testing::normal_floats(1'000'000, 3);
  std::vector<std::byte> isal, zlib6;
  ASSERT_TRUE(append_gzip_member(std::as_bytes(std::span(weights)), 1, isal));
  ASSERT_TRUE(append_gzip_member(std::as_bytes(std::span(weights)), 6, zlib6));
  EXPECT_LT(isal.size(), weights.size());
  EXPECT_LE(isal.size(), zlib6.size() * 102 / 100);
}

// Leaves 16-bit words of `value` in the stack below the caller's frame, where the next
// call's locals will lie.
[[gnu::noinline]] void scribble_stack(std::uint16_t value) {
  volatile std::uint16_t junk[1 << 18];  // 512 KiB: the stream struct is large
  for (auto& word : junk) word = value;
}

TEST(GzipCodec, IsalOutputDoesNotDependOnTheStack) {
  // ISA-L's stream init leaves hist_bits, the match window's log2, as it finds it: a
  // stale 12 there shrinks the window and changes the bytes written.
  std::string text;
  for (int i = 0; text.size() < (64u << 10); ++i) {
    text += "merge a" + std::to_string(i) + " b" + std::to_string(i) + "\n";
  }
  text.resize(64 << 10);
  std::vector<std::byte> reference, scribbled;
  scribble_stack(0);
  ASSERT_TRUE(append_gzip_member(std::as_bytes(std::span(text)), 1, reference));
  for (const int value : {1, 8, 12, 14}) {
    scribbled.clear();
    scribble_stack(static_cast<std::uint16_t>(value));
    ASSERT_TRUE(append_gzip_member(std::as_bytes(std::span(text)), 1, scribbled));
    EXPECT_EQ(scribbled, reference) << "stack words of " << value;
  }
}

TEST(GzipDecoder, EmptyExtraMembersDecodeToNothing) {
  auto bytes = members_of({"abc"}, 1);
  std::string payload = "index";
  append_empty_member_with_extra("SI", std::as_bytes(std::span(payload)), bytes);
  EXPECT_EQ(zlib_decode(bytes), "abc");
  auto decoded = decode(bytes);
  ASSERT_TRUE(decoded);
  EXPECT_EQ(*decoded, "abc");
}

TEST(GzipDecoder, ReportsBadCrcWithMemberAndOffset) {
  auto bytes = members_of({"hello", "world"}, 6);
  bytes[bytes.size() - 6] ^= std::byte{1};  // the second member's CRC
  auto decoded = decode(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_EQ(decoded.error().kind, ErrorKind::bad_input);
  EXPECT_NE(decoded.error().message.find("CRC-32 mismatch (gzip member 1,"), std::string::npos)
      << decoded.error().message;
}

TEST(GzipDecoder, ReportsTruncationInsideDataAndTrailer) {
  auto bytes = members_of({testing::normal_floats(10'000, 1)}, 1);
  for (std::size_t cut : {bytes.size() - 3, bytes.size() / 2, std::size_t{12}}) {
    std::vector<std::byte> truncated(bytes.begin(),
                                     bytes.begin() + static_cast<std::ptrdiff_t>(cut));
    auto decoded = decode(truncated);
    ASSERT_FALSE(decoded) << "cut at " << cut;
    EXPECT_NE(decoded.error().message.find("truncated"), std::string::npos)
        << decoded.error().message;
  }
}

TEST(GzipDecoder, ReportsTrailingGarbage) {
  auto bytes = members_of({"abc"}, 1);
  for (char c : std::string("garbage")) bytes.push_back(static_cast<std::byte>(c));
  auto decoded = decode(bytes);
  ASSERT_FALSE(decoded);
  EXPECT_NE(decoded.error().message.find("trailing data"), std::string::npos)
      << decoded.error().message;
}

TEST(GzipDecoder, RefusesReservedFlagsAndOtherMethods) {
  auto flags = members_of({"abc"}, 1);
  flags[3] = std::byte{0x20};
  EXPECT_FALSE(decode(flags));
  auto method = members_of({"abc"}, 1);
  method[2] = std::byte{7};
  EXPECT_FALSE(decode(method));
}

}  // namespace
}  // namespace smpack
