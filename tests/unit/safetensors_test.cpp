#include "weights/safetensors.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "weight_fixtures.h"

namespace smpack {
namespace {

using testing::safetensors_file;

SafetensorsInfo inspect(const std::string& file) {
  MemoryByteSource source(file);
  auto info = inspect_safetensors(source, "model.safetensors");
  EXPECT_TRUE(info.has_value());
  return info.value_or(SafetensorsInfo{});
}

bool has_problem(const SafetensorsInfo& info, WeightProblemKind kind, std::string_view text) {
  return std::any_of(info.problems.begin(), info.problems.end(), [&](const auto& p) {
    return p.kind == kind && p.message.starts_with("model.safetensors: ") &&
           p.message.find(text) != std::string::npos;
  });
}

constexpr std::string_view kTwoTensors =
    R"({"__metadata__":{"format":"pt"},"b":{"dtype":"BF16","shape":[2],"data_offsets":[24,28]},)"
    R"("a":{"dtype":"F32","shape":[2,3],"data_offsets":[0,24]}})";

TEST(Safetensors, ValidFileListsTensorsInDataOrder) {
  SafetensorsInfo info = inspect(safetensors_file(kTwoTensors, 28));
  EXPECT_TRUE(info.problems.empty()) << info.problems.front().message;
  ASSERT_EQ(info.tensors.size(), 2u);
  EXPECT_EQ(info.tensors[0].name, "a");
  EXPECT_EQ(info.tensors[0].dtype, "float32");
  EXPECT_EQ(info.tensors[0].shape, (std::vector<std::uint64_t>{2, 3}));
  EXPECT_EQ(info.tensors[0].bytes, 24u);
  EXPECT_EQ(info.tensors[1].dtype, "bfloat16");
  ASSERT_EQ(info.metadata.size(), 1u);
  EXPECT_EQ(info.metadata[0].second, "pt");
}

struct RejectCase {
  std::string name;
  std::string file;
  std::string message;
};

TEST(Safetensors, RejectsWhatTheReferenceRejects) {
  std::string huge_length;
  testing::put_le(huge_length, 100'000'001, 8);
  std::vector<RejectCase> cases = {
      {"too small", "abc", "fewer than the 8-byte header length"},
      {"header too large", huge_length + "{}", "over the reference's limit"},
      {"header past eof", safetensors_file("{}", 0).substr(0, 9), "runs past the end"},
      {"bad utf-8", safetensors_file("{\"\xff\":1}", 0), "not valid UTF-8"},
      {"bad json", safetensors_file("{\"a\":", 0), "invalid JSON"},
      {"not an object", safetensors_file("[]", 0), "expected a JSON object"},
      {"unknown dtype",
       safetensors_file(R"({"a":{"dtype":"F33","shape":[1],"data_offsets":[0,4]}})", 4),
       "unknown dtype 'F33'"},
      {"three offsets",
       safetensors_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4,4]}})", 4),
       "data_offsets has 3 elements"},
      {"float shape",
       safetensors_file(R"({"a":{"dtype":"F32","shape":[1.0],"data_offsets":[0,4]}})", 4),
       "other than a non-negative integer"},
      {"negative shape",
       safetensors_file(R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", 4),
       "other than a non-negative integer"},
      {"metadata not string", safetensors_file(R"({"__metadata__":{"k":1}})", 0),
       "__metadata__ value for 'k' is not a string"},
      {"missing field", safetensors_file(R"({"a":{"dtype":"F32","data_offsets":[0,4]}})", 4),
       "missing field 'shape'"},
      {"duplicate field",
       safetensors_file(R"({"a":{"dtype":"F32","dtype":"F32","shape":[1],"data_offsets":[0,4]}})",
                        4),
       "duplicate field 'dtype'"},
      {"gap", safetensors_file(R"({"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}})", 8),
       "do not start where the previous tensor ends (0)"},
      {"wrong size",
       safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4),
       "covers 4 bytes but its shape and dtype need 8"},
      {"overflow",
       safetensors_file(
           R"({"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,4]}})", 4),
       "element count overflows"},
      {"sub-byte", safetensors_file(R"({"a":{"dtype":"F4","shape":[1],"data_offsets":[0,0]}})", 0),
       "do not fill whole bytes"},
      {"trailing data",
       safetensors_file(R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", 5),
       "4 trailing bytes after the last tensor"},
      {"short data",
       safetensors_file(R"({"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}})", 2),
       "need 4 data bytes but the file has 2"},
      {"trailing garbage in header", safetensors_file(std::string_view("{}\0", 3), 0),
       "invalid JSON"},
  };
  for (const RejectCase& c : cases) {
    SafetensorsInfo info = inspect(c.file);
    EXPECT_TRUE(has_problem(info, WeightProblemKind::safetensors_invalid, c.message))
        << c.name << ": " << (info.problems.empty() ? "no problem" : info.problems.front().message);
  }
}

TEST(Safetensors, StricterThanTheReference) {
  std::string duplicate_name = safetensors_file(
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})",
      1);
  SafetensorsInfo info = inspect(duplicate_name);
  EXPECT_TRUE(has_problem(info, WeightProblemKind::safetensors_strict, "'a' appears twice"));
  EXPECT_EQ(info.tensors.size(), 1u);

  info = inspect(safetensors_file(
      R"({"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1],"extra":{"x":[1,2]}}})", 1));
  EXPECT_TRUE(has_problem(info, WeightProblemKind::safetensors_strict, "unknown field 'extra'"));
  EXPECT_EQ(info.tensors.size(), 1u);

  info = inspect(safetensors_file(R"( {"__metadata__":{"k":"1","k":"2"}})", 0));
  EXPECT_TRUE(has_problem(info, WeightProblemKind::safetensors_strict, "does not start with '{'"));
  EXPECT_TRUE(has_problem(info, WeightProblemKind::safetensors_strict, "key 'k' twice"));
  EXPECT_FALSE(has_problem(info, WeightProblemKind::safetensors_invalid, ""));
}

TEST(Safetensors, HeaderOutsideTheWindowIsNotAvailable) {
  std::string file = safetensors_file(kTwoTensors, 28);
  std::vector<std::byte> head(reinterpret_cast<const std::byte*>(file.data()),
                              reinterpret_cast<const std::byte*>(file.data()) + 20);
  WindowByteSource window(file.size(), head, {});
  auto info = inspect_safetensors(window, "model.safetensors");
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(info->complete);
  EXPECT_EQ(info->problems.front().kind, WeightProblemKind::not_available);
}

}  // namespace
}  // namespace smpack
