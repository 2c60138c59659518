#include "smpack/weight_scan.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "weight_fixtures.h"

namespace smpack {
namespace {

using testing::build_zip;
using testing::PickleBuilder;
using testing::ZipMember;

WeightFileReport inspect(std::string_view member, const std::string& bytes) {
  MemoryByteSource source(bytes);
  auto report = inspect_weight_file(member, source);
  EXPECT_TRUE(report.has_value());
  return report.value_or(WeightFileReport{});
}

// The problem of this kind, which must name the member.
const WeightProblem* find_problem(const WeightFileReport& report, WeightProblemKind kind,
                                  std::string_view text = {}) {
  for (const WeightProblem& problem : report.problems) {
    if (problem.kind == kind && problem.message.find(text) != std::string::npos) {
      EXPECT_TRUE(problem.message.starts_with(report.member + ": ")) << problem.message;
      return &problem;
    }
  }
  return nullptr;
}

std::string torch_zip(const std::string& data_pkl, const std::vector<std::string>& storages,
                      std::vector<ZipMember> extra = {}) {
  std::vector<ZipMember> members{ZipMember("archive/data.pkl", data_pkl)};
  for (std::size_t i = 0; i < storages.size(); ++i) {
    members.emplace_back("archive/data/" + std::to_string(i), storages[i]);
  }
  members.emplace_back("archive/version", "3\n");
  for (ZipMember& member : extra) members.push_back(std::move(member));
  return build_zip(members);
}

std::string npy(std::string_view header, std::string_view data) {
  std::string out = "\x93NUMPY\x01";
  out += '\0';
  testing::put_le(out, header.size(), 2);
  return out + std::string(header) + std::string(data);
}

TEST(WeightScan, SniffsByContentNotByName) {
  auto sniff = [](const std::string& bytes) {
    return sniff_weight_format(testing::as_bytes_of(bytes), "model.bin");
  };
  std::string state_dict = testing::state_dict_pickle({{"w", {2}}});
  EXPECT_EQ(sniff(torch_zip(state_dict, {std::string(8, '\0')})), WeightFormat::pytorch_zip);
  EXPECT_EQ(sniff(state_dict), WeightFormat::pickle);
  EXPECT_EQ(sniff(testing::safetensors_file("{}", 0)), WeightFormat::safetensors);
  EXPECT_EQ(sniff(npy("{'descr': '<f4', 'fortran_order': False, 'shape': (1,), }", "abcd")),
            WeightFormat::numpy_npy);
  EXPECT_EQ(sniff(build_zip({ZipMember("x.npy", "")})), WeightFormat::numpy_npz);
  EXPECT_EQ(sniff(build_zip({ZipMember("readme.txt", "hi")})), WeightFormat::other_zip);
  EXPECT_EQ(sniff("import torch\nprint(1)\n"), WeightFormat::unknown);
  EXPECT_EQ(sniff("(dp0\nS'a'\np1\nI1\ns."), WeightFormat::pickle);  // protocol 0
  EXPECT_TRUE(looks_like_weight_file(testing::as_bytes_of(state_dict), "state.dat"));
  const std::string json = "{\"json\": true}";
  EXPECT_FALSE(looks_like_weight_file(testing::as_bytes_of(json), "config.json"));
  // A pickle-loader name is judged whatever it holds.
  EXPECT_TRUE(looks_like_weight_file(testing::as_bytes_of(json), "model.BIN"));
  EXPECT_TRUE(has_pickle_loader_name("weights/model.ckpt"));
  EXPECT_FALSE(has_pickle_loader_name("weights.bin/README"));
  EXPECT_FALSE(has_pickle_loader_name("model.safetensors"));
}

// pickle.load needs no PROTO and no particular first opcode: every one of these runs
// os.system under torch.load(weights_only=False) and pickle.load (the CLI test
// tests/cli/test_pickle_recognition.py proves it with torch), whatever the file is called.
TEST(WeightScan, PicklesAreRecognisedWhateverTheirFirstOpcode) {
  const std::string call = "cos\nsystem\n(S'true'\ntR.";
  const std::string long_text = "X" + std::string("\x40\x1f\x00\x00", 4) + std::string(8000, 'a');
  const std::map<std::string, std::string> cases = {
      {"protocol 0", call},
      {"FLOAT first", "F1.5\n0" + call},
      {"BININT2 first", std::string("M\x01\x00", 3) + "0" + call},
      {"NEWTRUE first",
       "\x88"
       "0" +
           call},
      {"INT in base 16", "I0x10\n0" + call},
      {"LONG with underscores", "L1_000L\n0" + call},
      {"STACK_GLOBAL without PROTO", "\x8c\x02os\x8c\x06system\x93\x8c\x04true\x85R."},
      {"STOP after a long string", long_text + "0" + call},
      {"broken after the call", "cos\nsystem\n(S'true'\ntR\xff\xff"},
  };
  for (const auto& [name, bytes] : cases) {
    WeightFileReport report = inspect("blob.dat", bytes);
    EXPECT_EQ(report.format, WeightFormat::pickle) << name;
    EXPECT_EQ(report.verdict, PickleVerdict::dangerous) << name;
  }
}

TEST(WeightScan, TextThatOnlyStartsLikeAPickleIsNotOne) {
  for (const std::string text : {"cat\ndog\nmouse\n", "Import this\n", "(a list)\n"}) {
    WeightFileReport report = inspect("vocab.txt", text);
    EXPECT_EQ(report.format, WeightFormat::unknown) << text;
    EXPECT_TRUE(report.problems.empty()) << text;
  }
}

TEST(WeightScan, UnknownContentUnderAPickleLoaderNameIsUnrecognised) {
  const std::string raw("\x00\x00\x80\x3f\x00\x00\x00\x40", 8);  // float32 1, 2
  WeightFileReport named = inspect("model.bin", raw);
  EXPECT_EQ(named.format, WeightFormat::unknown);
  const WeightProblem* problem = find_problem(named, WeightProblemKind::unrecognised_format);
  ASSERT_TRUE(problem);
  EXPECT_NE(problem->message.find("torch.load"), std::string::npos) << problem->message;
  WeightFileReport other = inspect("weights.raw", raw);
  EXPECT_TRUE(other.problems.empty());
}

// A source that remembers how far into it anything was read.
class ReachRecordingSource final : public ByteSource {
 public:
  explicit ReachRecordingSource(std::string_view bytes) : inner_(bytes) {}
  std::uint64_t size() const override { return inner_.size(); }
  std::uint64_t held_from(std::uint64_t offset) const override { return inner_.held_from(offset); }
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    reach_ = std::max<std::uint64_t>(reach_, offset + out.size());
    return inner_.read_at(offset, out);
  }
  std::uint64_t reach() const { return reach_; }

 private:
  MemoryByteSource inner_;
  mutable std::uint64_t reach_ = 0;
};

TEST(WeightScan, AHeadThatIsNoPickleIsJudgedWithoutReadingTheRest) {
  const std::string raw(8u << 20, '\x3f');  // 8 MiB of float32 bytes; '?' is no opcode
  ReachRecordingSource source(raw);
  auto report = inspect_weight_file("model.bin", source);
  ASSERT_TRUE(report.has_value());
  EXPECT_TRUE(find_problem(*report, WeightProblemKind::unrecognised_format));
  EXPECT_LE(source.reach(), kWeightSniffBytes);
}

TEST(WeightScan, KerasArchivesReportTheirLambdaLayers) {
  auto keras = [](const std::string& config) {
    return build_zip({ZipMember("metadata.json", R"({"keras_version": "3.4.1"})"),
                      ZipMember("config.json", config).deflated(),
                      ZipMember("model.weights.h5", "\x89HDF\r\n\x1a\n")});
  };
  const std::string lambda = R"({"class_name": "Sequential", "config": {"layers": [
      {"class_name": "Dense", "config": {"name": "dense"}},
      {"class_name": "Lambda", "config": {"name": "shell", "function": {"class_name":
       "__lambda__", "config": {"code": "4wEAAAAAAAAA"}}}}]}})";
  WeightFileReport report = inspect("model.keras", keras(lambda));
  EXPECT_EQ(report.format, WeightFormat::keras_zip);
  const WeightProblem* found = find_problem(report, WeightProblemKind::keras_lambda, "'shell'");
  ASSERT_TRUE(found);
  EXPECT_EQ(report.problems.size(), 1u) << report.problems.back().message;

  WeightFileReport plain = inspect("model.keras", keras(R"({"class_name": "Dense"})"));
  EXPECT_EQ(plain.format, WeightFormat::keras_zip);
  EXPECT_TRUE(plain.problems.empty()) << plain.problems.front().message;

  std::string deep = std::string(200, '[') + std::string(200, ']');
  EXPECT_TRUE(find_problem(inspect("model.keras", keras(deep)),
                           WeightProblemKind::checkpoint_layout, "deeper than 128"));
  EXPECT_TRUE(find_problem(inspect("model.keras", keras("{\"class_name\":")),
                           WeightProblemKind::checkpoint_layout, "not valid JSON"));
}

TEST(WeightScan, Hdf5IsReportedAsNotAnalysed) {
  WeightFileReport report = inspect("model.h5", std::string("\x89HDF\r\n\x1a\n", 8) + "rest");
  EXPECT_EQ(report.format, WeightFormat::hdf5);
  EXPECT_TRUE(find_problem(report, WeightProblemKind::not_analysed, "HDF5"));
}

TEST(WeightScan, TorchZipStateDictIsWeightsOnlyWithInventory) {
  std::string data_pkl = testing::state_dict_pickle({{"fc.weight", {2, 2}}, {"fc.bias", {2}}});
  WeightFileReport report = inspect(
      "model/model.pth", torch_zip(data_pkl, {std::string(16, '\1'), std::string(8, '\2')}));
  EXPECT_EQ(report.format, WeightFormat::pytorch_zip);
  EXPECT_EQ(report.verdict, PickleVerdict::weights_only);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front().message;
  ASSERT_EQ(report.tensors.size(), 2u);
  EXPECT_EQ(report.tensors[0].name, "fc.weight");
  EXPECT_EQ(report.tensor_bytes, 24u);
  EXPECT_TRUE(report.complete);
}

TEST(WeightScan, TorchZipRecordsMustMatchTheStorages) {
  std::string data_pkl = testing::state_dict_pickle({{"a", {2}}, {"b", {4}}});
  WeightFileReport report = inspect("m.pt", torch_zip(data_pkl, {std::string(12, '\0')}));
  EXPECT_TRUE(find_problem(report, WeightProblemKind::checkpoint_layout,
                           "archive/data/0 holds 12 bytes but storage 0 needs 2 x float32 = 8"));
  EXPECT_TRUE(find_problem(report, WeightProblemKind::checkpoint_layout,
                           "storage 1 but there is no record archive/data/1"));
}

TEST(WeightScan, PicklesHiddenBesideTheRecordsAreAnalysed) {
  PickleBuilder evil;
  evil.proto(2).global("os", "system").unicode("id").tuple1().reduce().stop();
  std::string data_pkl = testing::state_dict_pickle({});
  WeightFileReport report =
      inspect("m.pt", torch_zip(data_pkl, {}, {ZipMember("extra.pkl", evil.str())}));
  EXPECT_EQ(report.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(find_problem(report, WeightProblemKind::checkpoint_layout,
                           "extra.pkl is outside the checkpoint directory archive/"));
  EXPECT_TRUE(
      find_problem(report, WeightProblemKind::pickle_dangerous_global, "extra.pkl: GLOBAL"));
}

TEST(WeightScan, TorchScriptIsCode) {
  std::string data_pkl = testing::state_dict_pickle({});
  WeightFileReport report = inspect(
      "model.pt", torch_zip(data_pkl, {},
                            {ZipMember("archive/constants.pkl", "\x80\x02).").deflated(),
                             ZipMember("archive/code/__torch__/m.py", "def forward(self): ...")}));
  EXPECT_EQ(report.format, WeightFormat::torchscript_zip);
  EXPECT_EQ(report.verdict, PickleVerdict::unknown_code);
  EXPECT_TRUE(find_problem(report, WeightProblemKind::torchscript_code, "1 source files"));
}

TEST(WeightScan, PlainPickleNamedPtIsAPickle) {
  PickleBuilder evil;
  evil.proto(2).global("subprocess", "Popen").unicode("sh").tuple1().reduce().stop();
  WeightFileReport report = inspect("weights/model.pt", evil.str());
  EXPECT_EQ(report.format, WeightFormat::pickle);
  EXPECT_EQ(report.verdict, PickleVerdict::dangerous);
  EXPECT_EQ(report.globals, std::vector<std::string>{"subprocess.Popen"});
  EXPECT_TRUE(find_problem(report, WeightProblemKind::pickle_dangerous_global, "subprocess.Popen"));
}

TEST(WeightScan, SecondPickleBehindTheFirstIsAnalysed) {
  PickleBuilder second;
  second.proto(2).none().stop().proto(2).global("builtins", "exec").stop();
  WeightFileReport report = inspect("model.pkl", second.str());
  EXPECT_EQ(report.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(
      find_problem(report, WeightProblemKind::pickle_dangerous_global, "pickle at offset 4"));
}

TEST(WeightScan, ZipNameMismatchIsReportedForTheMember) {
  std::string data_pkl = testing::state_dict_pickle({});
  std::string zip =
      build_zip({ZipMember("archive/data.pkl", data_pkl).with_local_name("archive/data.pkX"),
                 ZipMember("archive/version", "3\n")});
  WeightFileReport report = inspect("model.tar.gz:model.pt", zip);
  EXPECT_TRUE(find_problem(report, WeightProblemKind::zip_name_mismatch, "'archive/data.pkX'"));
}

TEST(WeightScan, LegacyStreamListsTensorsAndChecksTheRawStorages) {
  PickleBuilder stream;
  stream.proto(2).raw("\x8a\x0a\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19").stop();
  stream.proto(2).op('M').raw("\xe9\x03").stop();
  stream.proto(2).empty_dict().stop();
  stream.raw(testing::state_dict_pickle({{"w", {3}}}).substr(0));
  stream.proto(2).op(']').unicode("0").append().stop();
  std::string file = stream.str();
  testing::put_le(file, 3, 8);
  file += std::string(12, '\0');
  WeightFileReport report = inspect("old.pt", file);
  EXPECT_EQ(report.format, WeightFormat::pytorch_legacy);
  EXPECT_EQ(report.verdict, PickleVerdict::weights_only);
  EXPECT_TRUE(report.problems.empty()) << report.problems.front().message;
  ASSERT_EQ(report.tensors.size(), 1u);
  EXPECT_EQ(report.tensors[0].bytes, 12u);

  WeightFileReport extended = inspect("old.pt", file + "hidden");
  EXPECT_TRUE(find_problem(extended, WeightProblemKind::checkpoint_layout,
                           "6 bytes after the last storage"));
}

TEST(WeightScan, NumpyArraysAndObjectArrays) {
  WeightFileReport numeric = inspect(
      "x.npy", npy("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }", "12345678"));
  EXPECT_EQ(numeric.format, WeightFormat::numpy_npy);
  ASSERT_EQ(numeric.tensors.size(), 1u);
  EXPECT_EQ(numeric.tensors[0].dtype, "float32");
  EXPECT_EQ(numeric.tensors[0].bytes, 8u);
  EXPECT_FALSE(numeric.verdict.has_value());

  WeightFileReport short_data =
      inspect("x.npy", npy("{'descr': '<f8', 'fortran_order': False, 'shape': (2,), }", "1234"));
  EXPECT_TRUE(find_problem(short_data, WeightProblemKind::numpy_malformed, "needs 16 data bytes"));

  PickleBuilder evil;
  evil.proto(3).global("os", "system").stop();
  WeightFileReport object =
      inspect("o.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (1,), }", evil.str()));
  EXPECT_EQ(object.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(
      find_problem(object, WeightProblemKind::pickle_dangerous_global, "object array pickle"));

  // Every spelling numpy.dtype reads as the object type, or an array of it.
  for (std::string_view descr : {"object", "object_", "=O", "O8", "(2,)O", "2O", "(2, 3)|O"}) {
    const std::string header =
        "{'descr': '" + std::string(descr) + "', 'fortran_order': False, 'shape': (1,), }";
    EXPECT_EQ(inspect("s.npy", npy(header, evil.str())).verdict, PickleVerdict::dangerous) << descr;
  }

  std::string npz = build_zip(
      {ZipMember("a.npy",
                 npy("{'descr': '<i2', 'fortran_order': False, 'shape': (3,), }", "123456")),
       ZipMember("b.npy", npy("{'descr': '|O', 'fortran_order': False, 'shape': (), }", evil.str()))
           .deflated()});
  WeightFileReport archive = inspect("arrays.npz", npz);
  EXPECT_EQ(archive.format, WeightFormat::numpy_npz);
  ASSERT_EQ(archive.tensors.size(), 1u);
  EXPECT_EQ(archive.tensors[0].name, "a");
  EXPECT_EQ(archive.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(find_problem(archive, WeightProblemKind::pickle_dangerous_global, "array b:"));
}

TEST(WeightScan, SafetensorsProblemsNameTheMember) {
  WeightFileReport report = inspect(
      "model/model.safetensors",
      testing::safetensors_file(R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}})", 4));
  EXPECT_EQ(report.format, WeightFormat::safetensors);
  EXPECT_TRUE(find_problem(report, WeightProblemKind::safetensors_invalid, "tensor 'a'"));
}

TEST(WeightScan, StreamedMemberWithoutItsMiddleIsIncomplete) {
  std::string data_pkl = testing::state_dict_pickle({{"w", {1000}}});
  std::string zip = torch_zip(data_pkl, {std::string(4000, '\0')});
  // data.pkl is in the head, the directory in the tail, the storage in neither.
  std::size_t tail = zip.size() - zip.find("PK\x01\x02");
  std::vector<std::byte> head_bytes(reinterpret_cast<const std::byte*>(zip.data()),
                                    reinterpret_cast<const std::byte*>(zip.data()) + 1024);
  std::vector<std::byte> tail_bytes(
      reinterpret_cast<const std::byte*>(zip.data()) + zip.size() - tail,
      reinterpret_cast<const std::byte*>(zip.data()) + zip.size());
  WindowByteSource window(zip.size(), head_bytes, tail_bytes);
  auto report = inspect_weight_file("model.tar.gz:model.pt", window);
  ASSERT_TRUE(report.has_value());
  EXPECT_EQ(report->verdict, PickleVerdict::weights_only);
  EXPECT_EQ(report->tensors.size(), 1u);
  EXPECT_FALSE(report->complete);
  EXPECT_TRUE(
      find_problem(*report, WeightProblemKind::not_available, "local headers are not available"));
}

}  // namespace
}  // namespace smpack
