#include "archive/parallel_gzip_inflate.h"

#include <gtest/gtest.h>

#include <random>

#include "archive/deflate_block_finder.h"
#include "deflate_fixtures.h"
#include "test_support.h"

namespace smpack {
namespace {

constexpr std::size_t kChunk = 64 << 10;

// Text whose matches reach back across every chunk seam.
std::string repetitive_text(std::size_t bytes) {
  std::mt19937 rng(7);
  std::string out;
  while (out.size() < bytes) out += "weight_" + std::to_string(rng() % 5000) + " = 0.25;\n";
  out.resize(bytes);
  return out;
}

std::string random_bytes(std::size_t bytes) {
  std::mt19937 rng(3);
  std::string out(bytes, '\0');
  for (auto& c : out) c = static_cast<char>(rng());
  return out;
}

struct Decoded {
  std::string bytes;
  std::vector<GzipMemberInfo> members;
  std::optional<Error> error;
  std::size_t ahead = 0, redone = 0, buffers_made = 0;
  bool fell_back = false;
  std::uint64_t member_count = 0;
};

Decoded inflate(const std::vector<std::byte>& file, unsigned threads = 2) {
  MemoryByteSource source(file);
  Decoded out;
  auto inflate = ParallelGzipInflate::start(
      source, "test.gz", [&out](const GzipMemberInfo& m) { out.members.push_back(m); }, {},
      {kChunk, threads});
  EXPECT_NE(inflate, nullptr);
  if (!inflate) return out;
  for (;;) {
    auto got = inflate->next();
    if (!got) {
      out.error = got.error();
      break;
    }
    if (got->empty()) break;
    out.bytes.append(reinterpret_cast<const char*>(got->data()), got->size());
  }
  out.ahead = inflate->chunks_decoded_ahead();
  out.redone = inflate->chunks_redone();
  out.buffers_made = inflate->buffers_made();
  out.fell_back = inflate->fell_back();
  out.member_count = inflate->members();
  return out;
}

TEST(ParallelGzipInflate, WeightsAreDecodedAheadChunkByChunk) {
  for (int level : {1, 6, 9}) {
    const auto content = testing::normal_floats(300'000, 1);
    const auto file = testing::gzip_of(content, level);
    const auto decoded = inflate(file);
    ASSERT_FALSE(decoded.error) << decoded.error->message;
    EXPECT_TRUE(decoded.bytes == content) << "level " << level;
    EXPECT_GE(decoded.ahead, file.size() / kChunk - 1) << "level " << level;
    EXPECT_EQ(decoded.redone, 0u);
    EXPECT_FALSE(decoded.fell_back);
    ASSERT_EQ(decoded.members.size(), 1u);
    EXPECT_EQ(decoded.members[0].file_bytes, file.size());
    EXPECT_EQ(decoded.members[0].decoded_bytes, content.size());
    EXPECT_EQ(decoded.members[0].fixed_header[0], 0x1f);
  }
}

TEST(ParallelGzipInflate, ChunkBuffersGoRound) {
  const auto content = testing::normal_floats(600'000, 2);
  const auto file = testing::gzip_of(content, 6);
  for (unsigned threads : {1u, 2u, 3u}) {
    const auto decoded = inflate(file, threads);
    ASSERT_FALSE(decoded.error) << decoded.error->message;
    EXPECT_TRUE(decoded.bytes == content) << threads << " threads";  // stale bytes unseen
    ASSERT_GE(decoded.ahead, 8u);
    // The threads + 1 chunks that may be claimed ahead of the reader's, and its own.
    EXPECT_LE(decoded.buffers_made, threads + 2) << threads << " threads";
  }
}

TEST(ParallelGzipInflate, BackReferencesIntoTheUnknownWindowAreFilledIn) {
  const auto content = repetitive_text(3 << 20);
  const auto file = testing::gzip_of(content, 6);
  ASSERT_GT(file.size(), 4 * kChunk);
  for (unsigned threads : {1u, 2u, 4u}) {
    const auto decoded = inflate(file, threads);
    ASSERT_FALSE(decoded.error) << decoded.error->message;
    EXPECT_TRUE(decoded.bytes == content) << threads << " threads";
    EXPECT_GT(decoded.ahead, 2u);
    EXPECT_FALSE(decoded.fell_back);
  }
}

TEST(ParallelGzipInflate, AChunkThatExpandsPastItsCapIsStreamedByTheReader) {
  std::string content = testing::normal_floats(100'000, 2);
  content += std::string(40 << 20, '\0');  // 40 MiB in a few KiB: 8 x 64 KiB is the cap
  content += testing::normal_floats(100'000, 3);
  const auto file = testing::gzip_of(content, 6);
  const auto decoded = inflate(file);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  EXPECT_TRUE(decoded.bytes == content);
  EXPECT_GT(decoded.redone, 0u);
  EXPECT_FALSE(decoded.fell_back);
}

TEST(ParallelGzipInflate, AStreamOfStoredBlocksIsLeftToTheSequentialDecoder) {
  const auto content = random_bytes(1 << 20);
  const auto file = testing::gzip_of(content, 6);
  const auto decoded = inflate(file);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  EXPECT_TRUE(decoded.bytes == content);
  EXPECT_TRUE(decoded.fell_back);
  EXPECT_EQ(decoded.ahead, 0u);
  ASSERT_EQ(decoded.members.size(), 1u);
  EXPECT_EQ(decoded.members[0].file_bytes, file.size());
}

TEST(ParallelGzipInflate, ASecondMemberIsReadByTheSequentialDecoder) {
  const auto first = testing::normal_floats(100'000, 4), second = testing::normal_floats(50'000, 5);
  auto file = testing::gzip_of(first, 6);
  const auto more = testing::gzip_of(second, 6);
  file.insert(file.end(), more.begin(), more.end());
  const auto decoded = inflate(file);
  ASSERT_FALSE(decoded.error) << decoded.error->message;
  EXPECT_TRUE(decoded.bytes == first + second);
  EXPECT_TRUE(decoded.fell_back);
  EXPECT_EQ(decoded.member_count, 2u);
  ASSERT_EQ(decoded.members.size(), 2u);
  EXPECT_EQ(decoded.members[0].decoded_bytes, first.size());
  EXPECT_EQ(decoded.members[0].fixed_header[0], 0x1f);
  EXPECT_EQ(decoded.members[1].decoded_bytes, second.size());
}

TEST(ParallelGzipInflate, DamageIsReportedAsTheSequentialDecoderReportsIt) {
  const auto content = testing::normal_floats(200'000, 6);
  const auto good = testing::gzip_of(content, 6);

  auto bad_crc = good;
  bad_crc[bad_crc.size() - 6] ^= std::byte{1};
  auto decoded = inflate(bad_crc);
  ASSERT_TRUE(decoded.error);
  EXPECT_NE(decoded.error->message.find("test.gz: corrupt gzip data: CRC-32 mismatch"),
            std::string::npos)
      << decoded.error->message;

  auto trailing = good;
  trailing.push_back(std::byte{'x'});
  decoded = inflate(trailing);
  ASSERT_TRUE(decoded.error);
  EXPECT_NE(decoded.error->message.find("trailing data that is not gzip"), std::string::npos)
      << decoded.error->message;

  auto truncated = good;
  truncated.resize(good.size() - 20);
  decoded = inflate(truncated);
  ASSERT_TRUE(decoded.error);
  EXPECT_NE(decoded.error->message.find("test.gz: corrupt gzip data"), std::string::npos)
      << decoded.error->message;

  // Damage inside a chunk decoded ahead is caught by the chunk's own decoding, by the
  // seam check or by the CRC.
  for (std::size_t at : {good.size() / 3, good.size() / 2 + 17}) {
    auto damaged = good;
    damaged[at] ^= std::byte{0x10};
    decoded = inflate(damaged);
    ASSERT_TRUE(decoded.error) << "flip at " << at;
    EXPECT_EQ(decoded.error->kind, ErrorKind::bad_input);
    EXPECT_NE(decoded.error->message.find("test.gz: corrupt gzip data"), std::string::npos)
        << decoded.error->message;
  }
}

TEST(ParallelGzipInflate, SmallOrForeignInputIsLeftToTheSequentialDecoder) {
  const auto small = testing::gzip_of("hello", 6);
  MemoryByteSource small_source(small);
  EXPECT_EQ(ParallelGzipInflate::start(small_source, "s.gz", {}, {}, {kChunk, 2}), nullptr);
  std::vector<std::byte> not_gzip(4 * kChunk, std::byte{'a'});
  MemoryByteSource not_gzip_source(not_gzip);
  EXPECT_EQ(ParallelGzipInflate::start(not_gzip_source, "n.gz", {}, {}, {kChunk, 2}), nullptr);
}

// Stands for an object in S3: every read is a request, so it is streamed once.
class RemoteSource final : public ByteSource {
 public:
  explicit RemoteSource(const std::vector<std::byte>& bytes) : bytes_(bytes) {}
  std::uint64_t size() const override { return bytes_.size(); }
  std::uint64_t held_from(std::uint64_t offset) const override { return bytes_.held_from(offset); }
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    return bytes_.read_at(offset, out);
  }
  bool reads_at_random_cheaply() const override { return false; }

 private:
  MemoryByteSource bytes_;
};

TEST(ParallelGzipInflate, ARemoteSourceIsLeftToTheSequentialDecoder) {
  const auto file = testing::gzip_of(testing::normal_floats(300'000, 1), 6);
  ASSERT_GT(file.size(), 4 * kChunk);
  MemoryByteSource local(file);
  EXPECT_NE(ParallelGzipInflate::start(local, "local.gz", {}, {}, {kChunk, 2}), nullptr);
  RemoteSource remote(file);
  EXPECT_EQ(ParallelGzipInflate::start(remote, "remote.gz", {}, {}, {kChunk, 2}), nullptr);
  const SliceByteSource slice(remote, 0, file.size());
  EXPECT_EQ(ParallelGzipInflate::start(slice, "slice.gz", {}, {}, {kChunk, 2}), nullptr);
}

TEST(DeflateBlockFinder, FindsEveryDynamicBlockOfZlibsOutputAndLittleElse) {
  const auto file = testing::gzip_of(testing::normal_floats(500'000, 8), 6);
  const std::vector<std::byte> raw(file.begin() + 10, file.end() - 8);
  const auto starts = testing::block_starts(raw);
  ASSERT_GT(starts.size(), 20u);
  std::size_t false_candidates = 0;
  for (std::size_t i = 0; i + 1 < starts.size(); ++i) {
    EXPECT_EQ(find_dynamic_block(raw, starts[i], raw.size() * 8), starts[i]);
    // From just after a block start, the next candidate is the next start but rarely.
    const auto next = find_dynamic_block(raw, starts[i] + 1, raw.size() * 8);
    ASSERT_TRUE(next);
    if (*next != starts[i + 1]) ++false_candidates;
    EXPECT_LE(*next, starts[i + 1]);
  }
  EXPECT_LE(false_candidates, starts.size() / 20);
  // A header cut off by the end of the bytes is no candidate.
  EXPECT_FALSE(
      find_dynamic_block(std::span(raw).first(starts[5] / 8 + 8), starts[5], raw.size() * 8));
}

// Matches of the longest length (code 285) and of the farthest distances (code 29), so
// that blocks declare every literal/length and distance code (HLIT = HDIST = 29).
std::string longest_and_farthest_matches() {
  const std::string noise = random_bytes(8 * 30000);
  std::string out;
  for (std::size_t i = 0; i < 8; ++i) {
    const std::string part = noise.substr(i * 30000, 30000);
    out += part + std::string(3000, 'a') + part;
  }
  return out;
}

// The finder's cheap checks never reject an offset the full check accepts: on zlib's
// output of weights, text and far, long matches, it finds exactly the offsets of a plain loop over
// is_dynamic_block_header (block starts and the rare false candidates), from each on.
TEST(DeflateBlockFinder, FindsWhatTheFullCheckAcceptsAtEveryOffset) {
  for (const auto& file : {testing::gzip_of(testing::normal_floats(100'000, 9), 6),
                           testing::gzip_of(repetitive_text(1 << 20), 9),
                           testing::gzip_of(longest_and_farthest_matches(), 9)}) {
    const std::vector<std::byte> raw(file.begin() + 10, file.end() - 8);
    std::vector<std::uint64_t> expected, found;
    for (std::uint64_t at = 0; at < raw.size() * 8; ++at)
      if (is_dynamic_block_header(raw, at)) expected.push_back(at);
    for (auto at = find_dynamic_block(raw, 0, raw.size() * 8); at;
         at = find_dynamic_block(raw, *at + 1, raw.size() * 8))
      found.push_back(*at);
    EXPECT_GT(expected.size(), 2u);
    EXPECT_EQ(found, expected);
  }
}

}  // namespace
}  // namespace smpack
