// smpack::Artifact reads an smpack archive through its index and nothing else: a
// ByteSource that counts what is read shows the trailer and index read once, a listing
// that reads no member, and one member read without touching the weights.
#include "smpack/artifact.h"

#include <gtest/gtest.h>

#include <mutex>

#include "smpack/archive_writer.h"
#include "test_support.h"

namespace smpack {
namespace {

using testing::normal_floats;
using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

// The archive in memory, counting the bytes and the reads asked of it (thread-safe:
// indexed members are decoded on worker threads).
class CountingSource final : public ByteSource {
 public:
  explicit CountingSource(std::string bytes) : bytes_(std::move(bytes)), memory_(bytes_) {}
  std::uint64_t size() const override { return memory_.size(); }
  std::uint64_t held_from(std::uint64_t offset) const override { return memory_.held_from(offset); }
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    std::lock_guard lock(mutex_);
    ++reads_;
    bytes_read_ += out.size();
    if (offset + out.size() == size()) ++reads_of_the_end_;
    return memory_.read_at(offset, out);
  }
  std::uint64_t bytes_read() const { return bytes_read_; }
  std::uint64_t reads_of_the_end() const { return reads_of_the_end_; }

 private:
  std::string bytes_;
  MemoryByteSource memory_;
  mutable std::mutex mutex_;
  mutable std::uint64_t reads_ = 0, bytes_read_ = 0, reads_of_the_end_ = 0;
};

class ArtifactReads : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_ = normal_floats(2'000'000, 3);  // 8 MB: eight 1 MiB chunks
    write_file(dir_ / "model/model.bin", weights_);
    write_file(dir_ / "model/config.json", "{\"architectures\": [\"X\"]}");
    write_file(dir_ / "code/inference.py", "def model_fn(model_dir):\n    return 1\n");
    SourceSpec spec;
    spec.model_dir = dir_ / "model";
    spec.code_dir = dir_ / "code";
    auto sources = collect_sources(spec);
    ASSERT_TRUE(sources) << sources.error().message;
    ASSERT_TRUE(write_archive(*sources, dir_ / "a.tar.gz", {}));
  }

  ScratchDir dir_;
  std::string weights_;
};

TEST_F(ArtifactReads, AnSmpackArchiveIsReadThroughItsIndexOnly) {
  auto owned = std::make_unique<CountingSource>(read_file(dir_ / "a.tar.gz"));
  const CountingSource& source = *owned;
  auto artifact = Artifact::open_archive(std::move(owned), "a.tar.gz");
  ASSERT_TRUE(artifact) << artifact.error().message;
  ASSERT_EQ(artifact->kind(), ArtifactKind::smpack_archive);
  const std::uint64_t index_bytes = source.bytes_read();
  EXPECT_EQ(source.reads_of_the_end(), 1u);  // the trailer, once
  EXPECT_LT(index_bytes, 8u << 10);

  VisitOptions listing;
  listing.keep_content = nullptr;
  auto tree = artifact->visit(listing);
  ASSERT_TRUE(tree);
  EXPECT_EQ(tree->members.size(), 4u);  // config.json, model.bin, code, code/inference.py
  EXPECT_EQ(source.bytes_read(), index_bytes) << "a listing read member data";

  auto code = artifact->read_member("code/inference.py", 1 << 20);
  ASSERT_TRUE(code) << code.error().message;
  EXPECT_EQ(*code, "def model_fn(model_dir):\n    return 1\n");
  EXPECT_LT(source.bytes_read() - index_bytes, 64u << 10) << "reading code/ touched the weights";

  auto weights = artifact->read_member("model.bin", 16 << 20);
  ASSERT_TRUE(weights);
  EXPECT_EQ(*weights, weights_);
  EXPECT_EQ(source.reads_of_the_end(), 1u) << "the index was read again";
}

TEST_F(ArtifactReads, AStreamedArchiveIsReadOncePerPass) {
  // The same members without an index: cut the index off by rewriting them as plain tar.gz.
  std::string archive = read_file(dir_ / "a.tar.gz");
  auto indexed = Artifact::open(dir_ / "a.tar.gz");
  ASSERT_TRUE(indexed && indexed->index());
  archive.resize(indexed->index()->index_offset);  // the content members end the gzip stream
  auto owned = std::make_unique<CountingSource>(archive);
  const CountingSource& source = *owned;
  auto artifact = Artifact::open_archive(std::move(owned), "plain.tar.gz");
  ASSERT_TRUE(artifact) << artifact.error().message;
  EXPECT_EQ(artifact->kind(), ArtifactKind::streamed_archive);
  const std::uint64_t sniffed = source.bytes_read();
  auto code = artifact->read_member("code/inference.py", 1 << 20);
  ASSERT_TRUE(code) << code.error().message;
  // One pass over the file, plus the head the reader sniffs to tell the container.
  EXPECT_LE(source.bytes_read() - sniffed, archive.size() + (64u << 10));
}

}  // namespace
}  // namespace smpack
