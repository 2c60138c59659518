#include "smpack/weight_inventory.h"

#include <gtest/gtest.h>

#include "weight_fixtures.h"

namespace smpack {
namespace {

using testing::build_zip;
using testing::ZipMember;

// A PyTorch zip of `count` float32 tensors of 250 elements (the fixture's pickle writes
// sizes in one byte), 1000 bytes of storage each.
std::string torch_zip_of(int count) {
  std::vector<std::pair<std::string, std::vector<int>>> tensors;
  std::vector<ZipMember> members;
  for (int i = 0; i < count; ++i) tensors.push_back({"t" + std::to_string(i), {250}});
  members.emplace_back("archive/data.pkl", testing::state_dict_pickle(tensors));
  for (int i = 0; i < count; ++i)
    members.emplace_back("archive/data/" + std::to_string(i), std::string(1000, '\0'));
  members.emplace_back("archive/version", "3\n");
  return build_zip(members);
}

// Feeds `bytes` in pieces of `piece` bytes, as a streaming reader hands them over.
std::vector<WeightFileReport> collect(const std::string& bytes, std::size_t piece,
                                      WeightInventoryOptions options, bool* skipped = nullptr,
                                      std::string member = "m/weights.bin") {
  StreamedWeightCollector collector(options);
  collector.begin(std::move(member), bytes.size());
  std::size_t at = 0;
  for (; at < bytes.size() && collector.wants_data(); at += piece) {
    collector.feed(testing::as_bytes_of(bytes).subspan(at, std::min(piece, bytes.size() - at)));
  }
  if (skipped) *skipped = at < bytes.size();
  EXPECT_TRUE(collector.end().has_value());
  return collector.take_reports();
}

TEST(StreamedWeightCollector, WindowsThatCoverTheFileGiveTheWholeReport) {
  const std::string zip = torch_zip_of(40);
  MemoryByteSource whole(zip);
  auto expected = inspect_weight_file("m/weights.bin", whole);
  ASSERT_TRUE(expected.has_value());
  for (std::size_t piece : {1u, 7u, 4096u, 1u << 20}) {
    auto reports = collect(zip, piece, {});
    ASSERT_EQ(reports.size(), 1u) << piece;
    EXPECT_EQ(reports[0].format, WeightFormat::pytorch_zip);
    EXPECT_TRUE(reports[0].complete) << piece;
    EXPECT_EQ(reports[0].tensor_bytes, expected->tensor_bytes);
    EXPECT_TRUE(reports[0].problems.empty()) << reports[0].problems.front().message;
    EXPECT_EQ(reports[0].tensors.size(), 40u);
  }
}

TEST(StreamedWeightCollector, KeepsHeadAndTailAroundAMiddleItCannotHold) {
  const std::string zip = torch_zip_of(40);
  WeightInventoryOptions small;
  small.head_window = 8192;
  small.tail_window = 4096;
  for (std::size_t piece : {1000u, 65536u}) {
    auto reports = collect(zip, piece, small);
    ASSERT_EQ(reports.size(), 1u);
    // data.pkl in the head and the central directory in the tail: the verdict and the
    // inventory stand, but the storage's bytes were not held.
    EXPECT_EQ(reports[0].verdict, PickleVerdict::weights_only) << piece;
    EXPECT_EQ(reports[0].tensors.size(), 40u) << piece;
    EXPECT_FALSE(reports[0].complete) << piece;
  }
}

TEST(StreamedWeightCollector, KeepsOnlyTheHeaderOfASafetensorsFile) {
  // Its inspection reads the length-prefixed header, not the tensors.
  const std::string header =
      R"({"w":{"dtype":"F32","shape":[1048576],"data_offsets":[0,4194304]}})";
  const std::string file = testing::safetensors_file(header, 4 << 20);
  StreamedWeightCollector collector({});
  collector.begin("m/model.safetensors", file.size());
  for (std::size_t at = 0; at < file.size(); at += 65536) {
    collector.feed(
        testing::as_bytes_of(file).subspan(at, std::min<std::size_t>(65536, file.size() - at)));
  }
  EXPECT_LE(collector.bytes_kept(), kWeightSniffBytes) << "not the 64 MiB head window";
  ASSERT_TRUE(collector.end());
  auto reports = collector.take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].format, WeightFormat::safetensors);
  EXPECT_TRUE(reports[0].complete);
  EXPECT_TRUE(reports[0].problems.empty()) << reports[0].problems.front().message;
  ASSERT_EQ(reports[0].tensors.size(), 1u);
  EXPECT_EQ(reports[0].tensor_bytes, 4u << 20);
}

TEST(StreamedWeightCollector, KeepsALongSafetensorsHeaderWhole) {
  // A header past the sniff window is kept to its end, and no further.
  std::string header = R"({"__metadata__":{"note":")" + std::string(20000, 'x') +
                       R"("},"w":{"dtype":"U8","shape":[100000],"data_offsets":[0,100000]}})";
  const std::string file = testing::safetensors_file(header, 100000);
  StreamedWeightCollector collector({});
  collector.begin("m/model.safetensors", file.size());
  for (std::size_t at = 0; at < file.size(); at += 1000) {
    collector.feed(
        testing::as_bytes_of(file).subspan(at, std::min<std::size_t>(1000, file.size() - at)));
  }
  EXPECT_EQ(collector.bytes_kept(), 8 + header.size());
  ASSERT_TRUE(collector.end());
  auto reports = collector.take_reports();
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_TRUE(reports[0].complete);
  EXPECT_EQ(reports[0].tensors.size(), 1u);
}

TEST(StreamedWeightCollector, StopsWantingDataOnceTheHeadIsNoWeightFile) {
  const std::string text(100000, 'x');
  bool skipped = false;
  EXPECT_TRUE(collect(text, 4096, {}, &skipped, "m/notes.txt").empty());
  EXPECT_TRUE(skipped) << "the rest of a non-weight member need not be read";
  // Smaller than the sniff window, and empty: nothing to report either.
  EXPECT_TRUE(collect("tiny", 2, {}, nullptr, "m/notes.txt").empty());
  EXPECT_TRUE(collect("", 2, {}, nullptr, "m/notes.txt").empty());
}

TEST(StreamedWeightCollector, KeepsAPickleLoaderNameWhateverItHolds) {
  const std::string text(100000, 'x');
  bool skipped = true;
  auto reports = collect(text, 4096, {}, &skipped, "m/weights.bin");
  EXPECT_FALSE(skipped);
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_FALSE(reports[0].problems.empty());
  EXPECT_EQ(reports[0].problems[0].kind, WeightProblemKind::unrecognised_format);
}

TEST(InventoryWeightFile, TheBudgetIsSharedByTheFilesOfAnArtifact) {
  WeightInventoryOptions options;
  options.budget_bytes = 64;  // less than one pickle below
  ArtifactWeightScan scan(options);
  testing::PickleBuilder pickle;
  pickle.proto(2).empty_dict();
  for (int i = 0; i < 20; ++i) pickle.unicode("key" + std::to_string(i)).none().setitem();
  pickle.stop();
  const std::string bytes = pickle.str();
  MemoryByteSource source(bytes);
  std::vector<WeightFileReport> reports;
  ASSERT_TRUE(inventory_weight_file("a.pkl", source, scan.limits(), reports).has_value());
  ASSERT_EQ(reports.size(), 1u);
  ASSERT_FALSE(reports[0].problems.empty());
  EXPECT_EQ(reports[0].problems[0].kind, WeightProblemKind::pickle_not_judged);
  EXPECT_NE(reports[0].problems[0].message.find("budget"), std::string::npos);
}

TEST(InventoryWeightFile, ReportsWeightFilesOnly) {
  std::vector<WeightFileReport> reports;
  const std::string zip = torch_zip_of(1);
  MemoryByteSource weights(zip);
  MemoryByteSource text(std::string_view("print('hello')\n"));
  ASSERT_TRUE(inventory_weight_file("a.pt", weights, {}, reports).has_value());
  ASSERT_TRUE(inventory_weight_file("b.py", text, {}, reports).has_value());
  ASSERT_EQ(reports.size(), 1u);
  EXPECT_EQ(reports[0].member, "a.pt");
}

}  // namespace
}  // namespace smpack
