// The writer and the reader against each other: what build writes, the reader,
// the index and the scan read back exactly; the same input gives the same bytes.
#include <gtest/gtest.h>

#include "smpack/archive_index.h"
#include "smpack/archive_reader.h"
#include "smpack/archive_writer.h"
#include "smpack/artifact.h"
#include "smpack/digest.h"
#include "smpack/model_tree.h"
#include "test_support.h"

namespace smpack {
namespace {

using testing::normal_floats;
using testing::read_file;
using testing::ScratchDir;
using testing::write_file;

class ArchiveRoundTrip : public ::testing::Test {
 protected:
  void SetUp() override {
    weights_ = normal_floats(700'000, 1);  // 2.8 MB: several 1 MiB chunks
    write_file(dir_ / "model/model.pt", weights_);
    write_file(dir_ / "model/config.json", "{\"architectures\": [\"X\"]}");
    write_file(dir_ / "model/tokenizer/vocab.txt", "a\nb\n");
    write_file(dir_ / "code/inference.py", "def model_fn(model_dir):\n    return 1\n");
    write_file(dir_ / "code/requirements.txt", "numpy\n");
  }

  WriteResult build(const std::string& name, WriteOptions options = {}) {
    SourceSpec spec;
    spec.model_dir = dir_ / "model";
    spec.code_dir = dir_ / "code";
    auto sources = collect_sources(spec);
    EXPECT_TRUE(sources) << sources.error().message;
    auto written = write_archive(*sources, dir_ / name, options);
    EXPECT_TRUE(written) << written.error().message;
    return *written;
  }

  ScratchDir dir_;
  std::string weights_;
};

TEST_F(ArchiveRoundTrip, ReaderSeesCanonicalOrderWithCodeLast) {
  build("a.tar.gz");
  auto reader = ArchiveReader::open_file(dir_ / "a.tar.gz");
  ASSERT_TRUE(reader) << reader.error().message;
  std::vector<std::string> names;
  for (;;) {
    auto next = reader->next();
    ASSERT_TRUE(next) << next.error().message;
    if (!*next) break;
    names.push_back((*next)->path);
    EXPECT_EQ((*next)->uid, 0);
    EXPECT_EQ((*next)->mtime, kDefaultMtime);
    if ((*next)->path == "model.pt") {
      auto data = reader->read_all(1 << 30);
      ASSERT_TRUE(data);
      EXPECT_EQ(*data, weights_);
    }
  }
  std::vector<std::string> expected = {"config.json",          "model.pt", "tokenizer/",
                                       "tokenizer/vocab.txt",  "code/",    "code/inference.py",
                                       "code/requirements.txt"};
  EXPECT_EQ(names, expected);
  EXPECT_EQ(reader->container(), ContainerKind::gzip);
  EXPECT_GT(reader->gzip_members(), 3u);
}

TEST_F(ArchiveRoundTrip, SameBytesForAnyThreadCountAndSourceMtime) {
  WriteOptions one;
  one.threads = 1;
  build("t1.tar.gz", one);
  WriteOptions many;
  many.threads = 5;
  std::filesystem::last_write_time(
      dir_ / "model/model.pt",
      std::filesystem::file_time_type::clock::now() - std::chrono::hours(100));
  build("t5.tar.gz", many);
  EXPECT_EQ(read_file(dir_ / "t1.tar.gz"), read_file(dir_ / "t5.tar.gz"));
}

TEST_F(ArchiveRoundTrip, MtimeOptionChangesTheBytes) {
  build("default.tar.gz");
  WriteOptions later;
  later.mtime = 1700000000;
  auto written = build("later.tar.gz", later);
  EXPECT_NE(read_file(dir_ / "default.tar.gz"), read_file(dir_ / "later.tar.gz"));
  auto reader = ArchiveReader::open_file(dir_ / "later.tar.gz");
  auto first = reader->next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->mtime, 1700000000);
}

TEST_F(ArchiveRoundTrip, EveryLevelRoundTrips) {
  for (int level : {0, 1, 3, 6, 9}) {
    WriteOptions options;
    options.level = level;
    auto written = build("l" + std::to_string(level) + ".tar.gz", options);
    auto artifact = Artifact::open(dir_ / ("l" + std::to_string(level) + ".tar.gz"));
    ASSERT_TRUE(artifact) << artifact.error().message;
    auto data = artifact->read_member("model.pt", 1 << 30);
    ASSERT_TRUE(data) << "level " << level << ": " << data.error().message;
    EXPECT_EQ(*data, weights_) << "level " << level;
  }
}

TEST_F(ArchiveRoundTrip, IndexDescribesEveryMemberAndSeeksToIt) {
  auto written = build("a.tar.gz");
  auto artifact = Artifact::open(dir_ / "a.tar.gz");
  ASSERT_TRUE(artifact) << artifact.error().message;
  ASSERT_EQ(artifact->kind(), ArtifactKind::smpack_archive);
  const ArchiveIndex& ix = *artifact->index();
  ASSERT_EQ(ix.entries.size(), written.manifest.entries.size());
  const IndexedEntry* model = ix.find("model.pt");
  ASSERT_NE(model, nullptr);
  EXPECT_EQ(model->sha256, sha256_hex(weights_));
  EXPECT_EQ(ix.entries[ix.entries.size() - 3].path, "code");
  EXPECT_EQ(ix.members[ix.code_member].tar_offset, ix.entries[ix.entries.size() - 3].header_offset);
  auto code = artifact->read_member("code/inference.py", 1 << 20);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, "def model_fn(model_dir):\n    return 1\n");
}

TEST_F(ArchiveRoundTrip, ParallelReadOfAMultiChunkMemberIsExact) {
  build("a.tar.gz");
  auto artifact = Artifact::open(dir_ / "a.tar.gz");
  ASSERT_TRUE(artifact) << artifact.error().message;
  auto data = artifact->read_member("model.pt", 8 << 20);
  ASSERT_TRUE(data) << data.error().message;
  EXPECT_EQ(*data, weights_);
  auto too_small = artifact->read_member("model.pt", 1000);
  ASSERT_FALSE(too_small);
  EXPECT_NE(too_small.error().message.find("model.pt"), std::string::npos);
}

TEST_F(ArchiveRoundTrip, IndexedByteSourceReadsAnyRangeAcrossChunks) {
  build("a.tar.gz");
  auto artifact = Artifact::open(dir_ / "a.tar.gz");
  ASSERT_TRUE(artifact) << artifact.error().message;
  auto opened = artifact->open_member("model.pt", 0);
  ASSERT_TRUE(opened) << opened.error().message;
  const ByteSource* source = opened->get();
  EXPECT_EQ(source->size(), weights_.size());
  // It decodes and caches, so a gzip file inside is read front to back, not in chunks
  // from several threads.
  EXPECT_FALSE(source->reads_at_random_cheaply());
  // The start, a range spanning a chunk boundary, backwards jumps, and the very end.
  const std::size_t mib = 1 << 20;
  for (auto [offset, length] : std::vector<std::pair<std::size_t, std::size_t>>{
           {0, 100}, {mib - 700, 5000}, {10, 3}, {mib + 1000, mib + 2}, {weights_.size() - 9, 9}}) {
    std::string got(length, '\0');
    ASSERT_TRUE(source->read_at(offset, std::as_writable_bytes(std::span(got))))
        << offset << "+" << length;
    EXPECT_EQ(got, weights_.substr(offset, length)) << offset << "+" << length;
  }
  std::string past(10, '\0');
  auto refused = source->read_at(weights_.size() - 5, std::as_writable_bytes(std::span(past)));
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("model.pt"), std::string::npos);
}

TEST_F(ArchiveRoundTrip, DamagedChunkIsAnErrorThroughTheByteSource) {
  build("a.tar.gz");
  std::string bytes = read_file(dir_ / "a.tar.gz");
  auto good = Artifact::open(dir_ / "a.tar.gz");
  ASSERT_TRUE(good && good->index());
  // Flip a byte inside the second gzip member's deflate data; the index stays intact.
  const GzipMemberSpan& second = good->index()->members[1];
  bytes[second.file_offset + second.file_bytes / 2] ^= 0x55;
  write_file(dir_ / "bad.tar.gz", bytes);
  auto bad = Artifact::open(dir_ / "bad.tar.gz");
  ASSERT_TRUE(bad && bad->index());
  auto source = bad->open_member("model.pt", 0);
  ASSERT_TRUE(source);
  std::string all(weights_.size(), '\0');
  EXPECT_FALSE((*source)->read_at(0, std::as_writable_bytes(std::span(all))));
  EXPECT_FALSE(bad->read_member("model.pt", 8 << 20));
}

TEST_F(ArchiveRoundTrip, ManifestDigestsMatchAnIndependentScan) {
  auto written = build("a.tar.gz");
  auto artifact = Artifact::open(dir_ / "a.tar.gz");
  ASSERT_TRUE(artifact) << artifact.error().message;
  VisitOptions options;
  options.check_index = true;
  auto scan = artifact->visit(options);
  ASSERT_TRUE(scan) << scan.error().message;
  EXPECT_TRUE(scan->archive->index_problems.empty());
  EXPECT_EQ(scan->archive->writer, "smpack");
  EXPECT_EQ(scan->manifest().content_digest, written.manifest.content_digest);
  // The index's own gzip members are counted with the content members, as the stream has them.
  auto listed = artifact->visit(VisitOptions{});
  ASSERT_TRUE(listed);
  EXPECT_EQ(listed->archive->gzip_members, scan->archive->gzip_members);
  EXPECT_EQ(written.manifest.archive_sha256, sha256_hex(read_file(dir_ / "a.tar.gz")));
}

TEST_F(ArchiveRoundTrip, FlippedByteAnywhereIsCaught) {
  build("a.tar.gz");
  const std::string original = read_file(dir_ / "a.tar.gz");
  // A sample across the file, the first header byte by byte, and every byte of
  // the last 200 (index and trailer members).
  std::vector<std::size_t> positions;
  for (std::size_t i = 0; i < original.size(); i += 15013) positions.push_back(i);
  for (std::size_t i = 0; i < 40; ++i) positions.push_back(i);
  for (std::size_t i = original.size() - 200; i < original.size(); ++i) positions.push_back(i);
  for (std::size_t at : positions) {
    std::string damaged = original;
    damaged[at] = static_cast<char>(damaged[at] ^ 0x20);
    write_file(dir_ / "bad.tar.gz", damaged);
    VisitOptions options;
    options.check_index = true;
    auto artifact = Artifact::open(dir_ / "bad.tar.gz");
    auto scan = artifact ? artifact->visit(options) : Result<ModelTree>(artifact.error());
    bool caught = !scan || !scan->archive->index_problems.empty() ||
                  !scan->archive->index_version.has_value();
    EXPECT_TRUE(caught) << "a flip at byte " << at << " of " << original.size()
                        << " went unnoticed";
  }
}

TEST_F(ArchiveRoundTrip, RefusesSymlinksUnlessFollowing) {
  std::filesystem::create_symlink("model.pt", dir_ / "model/alias.pt");
  SourceSpec spec;
  spec.model_dir = dir_ / "model";
  auto refused = collect_sources(spec);
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().kind, ErrorKind::bad_input);
  EXPECT_NE(refused.error().message.find("alias.pt"), std::string::npos);
  spec.symlinks = SymlinkPolicy::follow;
  auto followed = collect_sources(spec);
  ASSERT_TRUE(followed);
}

TEST_F(ArchiveRoundTrip, GivenCodeReplacesTheModelDirectorysCode) {
  write_file(dir_ / "model/code/inference.py", "x");
  write_file(dir_ / "model/code/old.py", "y");
  SourceSpec spec;
  spec.model_dir = dir_ / "model";
  spec.code_dir = dir_ / "code";
  auto sources = collect_sources(spec);
  ASSERT_TRUE(sources) << sources.error().message;
  for (const auto& s : *sources) {
    EXPECT_NE(s.archive_path, "code/old.py");
    if (s.archive_path == "code/inference.py") {
      EXPECT_EQ(s.disk_path, dir_ / "code/inference.py");
    }
  }
}

TEST_F(ArchiveRoundTrip, ACodeFileGivenTwiceIsAUsageError) {
  SourceSpec spec;
  spec.model_dir = dir_ / "model";
  spec.code_dir = dir_ / "code";
  spec.entry_point = dir_ / "code/inference.py";  // already in the code folder
  auto sources = collect_sources(spec);
  ASSERT_FALSE(sources);
  EXPECT_EQ(sources.error().kind, ErrorKind::usage);
}

TEST_F(ArchiveRoundTrip, CancelledWriteLeavesNothingBehind) {
  CancelToken cancel;
  cancel.cancel();
  SourceSpec spec;
  spec.model_dir = dir_ / "model";
  auto sources = collect_sources(spec);
  WriteOptions options;
  options.cancel = &cancel;
  auto written = write_archive(*sources, dir_ / "out.tar.gz", options);
  ASSERT_FALSE(written);
  EXPECT_EQ(written.error().kind, ErrorKind::interrupted);
  for (const auto& entry : std::filesystem::directory_iterator(dir_.path())) {
    EXPECT_EQ(entry.path().filename().string().find("out.tar.gz"), std::string::npos)
        << entry.path();
  }
}

}  // namespace
}  // namespace smpack
