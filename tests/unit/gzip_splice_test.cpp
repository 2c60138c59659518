#include "archive/gzip_splice.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <string>
#include <vector>

#include "smpack/byte_source.h"

namespace smpack {
namespace {

// Text with long back-references, so blocks refer to data before their start.
std::string compressible(std::size_t bytes) {
  std::string out;
  for (std::size_t i = 0; out.size() < bytes; ++i)
    out += "{\"layer_" + std::to_string(i % 977) + "\": [" + std::to_string(i * 7 % 1013) + "]},\n";
  out.resize(bytes);
  return out;
}

std::vector<std::byte> gzip_with_zlib(const std::string& data, int level) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&z, data.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

GzipDecoder::Source reader_of(const std::vector<std::byte>& bytes, std::size_t from = 0) {
  return [&bytes, at = from](std::span<std::byte> out) mutable -> Result<std::size_t> {
    const std::size_t n = std::min(out.size(), bytes.size() - at);
    std::copy_n(bytes.begin() + static_cast<std::ptrdiff_t>(at), n, out.begin());
    at += n;
    return n;
  };
}

Result<std::string> read_all(GzipDecoder& decoder) {
  std::string out;
  std::vector<std::byte> buffer(7001);
  for (;;) {
    auto got = decoder.read(buffer);
    if (!got) return std::move(got).error();
    if (*got == 0) return out;
    out.append(reinterpret_cast<const char*>(buffer.data()), *got);
  }
}

std::vector<DeflateBoundary> all_boundaries(const std::vector<std::byte>& gz) {
  std::vector<DeflateBoundary> seen;
  GzipDecoder decoder(reader_of(gz), "test.gz");
  decoder.set_boundary_observer(
      [&](const DeflateBoundary& at, const std::function<std::vector<std::byte>()>& window) {
        DeflateBoundary kept = at;
        kept.window = window();
        seen.push_back(std::move(kept));
      });
  EXPECT_TRUE(read_all(decoder));
  return seen;
}

TEST(GzipSplice, DecodingResumesAtEveryBoundary) {
  const std::string data = compressible(3 << 20);
  const auto gz = gzip_with_zlib(data, 6);
  const auto boundaries = all_boundaries(gz);
  ASSERT_GT(boundaries.size(), 10u);  // many blocks, the member's start among them
  EXPECT_EQ(boundaries.front().tar_offset, 0u);
  for (std::size_t i = 0; i < boundaries.size(); i += 3) {
    const DeflateBoundary& at = boundaries[i];
    GzipDecoder resumed(reader_of(gz, at.bit_offset / 8), "test.gz", at);
    auto rest = read_all(resumed);  // the trailer's CRC-32 is checked at its end
    ASSERT_TRUE(rest) << "boundary " << i << " of " << boundaries.size() << " bit " << at.bit_offset
                      << " tar " << at.tar_offset << ": " << rest.error().message;
    EXPECT_EQ(*rest, data.substr(at.tar_offset)) << "boundary " << i;
  }
}

TEST(GzipSplice, EndedMemberHoldsExactlyTheDataBeforeTheCut) {
  const std::string data = compressible(2 << 20);
  const auto gz = gzip_with_zlib(data, 9);
  const auto boundaries = all_boundaries(gz);
  MemoryByteSource source(gz);
  for (std::uint64_t cut : {std::uint64_t{0}, std::uint64_t{1}, std::uint64_t{777777},
                            std::uint64_t{data.size() / 2}, std::uint64_t{data.size() - 1}}) {
    SplicePointFinder finder;
    for (const auto& b : boundaries) finder.on_boundary(b, [&] { return b.window; });
    auto from = finder.choose(cut);
    ASSERT_TRUE(from);
    EXPECT_LE(from->tar_offset, cut);
    EXPECT_LT(cut - from->tar_offset, 512u << 10);  // about one block, not the member
    GzipDecoder rest = resume_at(source, 0, "test.gz", *from);
    if (cut > 0) {  // a cut at the member's start keeps nothing of it
      std::vector<std::byte> spliced(
          gz.begin(), gz.begin() + static_cast<std::ptrdiff_t>(from->bit_offset / 8));
      auto wrote = end_member_at(source, 0, "test.gz", rest, *from, cut, 6,
                                 [&](std::span<const std::byte> piece) -> Result<void> {
                                   spliced.insert(spliced.end(), piece.begin(), piece.end());
                                   return {};
                                 });
      ASSERT_TRUE(wrote) << wrote.error().message;
      EXPECT_EQ(*wrote, spliced.size() - from->bit_offset / 8);
      GzipDecoder check(reader_of(spliced), "spliced.gz");
      auto kept = read_all(check);
      ASSERT_TRUE(kept) << "cut " << cut << ": " << kept.error().message;
      EXPECT_EQ(*kept, data.substr(0, cut)) << "cut " << cut;
    }
    auto after = read_all(rest);  // the decoder is left at the cut
    ASSERT_TRUE(after);
    EXPECT_EQ(*after, data.substr(cut));
  }
}

TEST(GzipSplice, FinderCopiesWindowsAtMostOncePer32KiB) {
  SplicePointFinder finder;
  int copies = 0;
  auto window = [&] {
    ++copies;
    return std::vector<std::byte>(32768);
  };
  // A flood of one-byte blocks, as a hostile archive can hold: 1,000,000 boundaries.
  for (std::uint64_t at = 1; at <= 1000000; ++at) {
    DeflateBoundary b;
    b.bit_offset = at * 16;
    b.tar_offset = at;
    finder.on_boundary(b, window);
    if (at % 4096 == 0) finder.cut_not_before(at);
  }
  EXPECT_LE(copies, 1000000 / 32768 + 2);
  auto from = finder.choose(999999);
  ASSERT_TRUE(from);
  EXPECT_GT(from->tar_offset, 999999u - 32768u);
  EXPECT_FALSE(finder.choose(0));  // nothing kept at or before offset 0
}

// What the finder says is kept at least never exceeds what a splice at any cut allowed
// so far keeps: the file bytes before the boundary it resumes from, or before the header
// of a member it starts at.
TEST(GzipSplice, FinderKeptBytesAreALowerBoundOfEverySpliceAllowed) {
  SplicePointFinder finder;
  auto window = [] { return std::vector<std::byte>(32768); };
  auto boundary = [](std::uint64_t member_file_offset, std::uint64_t member_tar_offset,
                     std::uint64_t bit_offset, std::uint64_t tar_offset) {
    DeflateBoundary b;
    b.member_file_offset = member_file_offset;
    b.member_tar_offset = member_tar_offset;
    b.bit_offset = bit_offset;
    b.tar_offset = tar_offset;
    return b;
  };
  // Every cut allowed so far keeps at least the bound, whichever boundary it resumes from.
  auto check_bound = [&](std::uint64_t least_cut, std::uint64_t last_cut) {
    for (std::uint64_t cut = least_cut; cut <= last_cut; cut += (last_cut - least_cut) / 4 + 1) {
      auto from = finder.choose(cut);
      ASSERT_TRUE(from) << cut;
      EXPECT_GE(kept_file_bytes(*from, cut), finder.kept_bytes_at_least()) << cut;
    }
  };
  EXPECT_EQ(finder.kept_bytes_at_least(), 0u);
  finder.on_boundary(boundary(0, 0, 80, 0), window);  // the first member's deflate data
  EXPECT_EQ(finder.kept_bytes_at_least(), 0u);        // a cut at 0 keeps nothing
  finder.on_boundary(boundary(0, 0, 8 * 1000 + 3, 100000), window);
  EXPECT_EQ(finder.kept_bytes_at_least(), 0u);  // beyond the bound: not yet allowed
  finder.cut_not_before(150000);
  EXPECT_EQ(finder.kept_bytes_at_least(), 1000u);  // the shared byte is not kept whole
  // A second member starting at file offset 5000, tar offset 200000.
  finder.on_boundary(boundary(5000, 200000, 8 * 5010, 200000), window);
  finder.cut_not_before(200000);
  EXPECT_EQ(finder.kept_bytes_at_least(), 5000u);  // its header is rewritten by a cut there
  check_bound(200000, 250000);
  // Boundaries past the bound (pending), then a third member, cut exactly at its start.
  finder.on_boundary(boundary(5000, 200000, 8 * 9000 + 5, 260000), window);
  finder.on_boundary(boundary(12000, 400000, 8 * 12010, 400000), window);
  EXPECT_EQ(finder.kept_bytes_at_least(), 5000u);  // the bound has not moved
  check_bound(200000, 400000);
  finder.cut_not_before(300000);
  EXPECT_EQ(finder.kept_bytes_at_least(), 9000u);
  check_bound(300000, 400000);
  finder.cut_not_before(400000);
  EXPECT_EQ(finder.kept_bytes_at_least(), 12000u);
  check_bound(400000, 400000);
}

TEST(GzipSplice, CorruptDataAfterTheBoundaryIsAnError) {
  const std::string data = compressible(1 << 20);
  auto gz = gzip_with_zlib(data, 6);
  const auto boundaries = all_boundaries(gz);
  ASSERT_GT(boundaries.size(), 2u);
  const DeflateBoundary& from = boundaries[1];
  gz[gz.size() - 6] ^= std::byte{0xff};  // the member's CRC-32
  GzipDecoder resumed(reader_of(gz, from.bit_offset / 8), "test.gz", from);
  auto rest = read_all(resumed);
  ASSERT_FALSE(rest);
  EXPECT_NE(rest.error().message.find("CRC-32 mismatch"), std::string::npos);
}

}  // namespace
}  // namespace smpack
