#include "smpack/pickle_analyzer.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>

#include "weight_fixtures.h"

namespace smpack {
namespace {

using testing::PickleBuilder;

bool has_problem(const PickleAnalysis& analysis, WeightProblemKind kind, std::string_view text) {
  return std::any_of(analysis.problems.begin(), analysis.problems.end(), [&](const auto& p) {
    return p.kind == kind && p.message.find(text) != std::string::npos;
  });
}

bool saw_global(const PickleAnalysis& analysis, std::string_view name) {
  return std::find(analysis.globals.begin(), analysis.globals.end(), name) !=
         analysis.globals.end();
}

TEST(PickleAnalyzer, GlobalToOsSystemIsDangerous) {
  PickleBuilder p;
  p.proto(2).global("os", "system").unicode("id").tuple1().reduce().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(saw_global(a, "os.system"));
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_dangerous_global, "os.system"));
  EXPECT_TRUE(a.reached_stop);
  EXPECT_TRUE(a.complete);
}

TEST(PickleAnalyzer, StackGlobalWithLiteralStringsIsDangerous) {
  PickleBuilder p;
  p.proto(4).short_unicode("builtins").short_unicode("eval").stack_global();
  p.short_unicode("1+1").tuple1().reduce().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(saw_global(a, "builtins.eval"));
}

TEST(PickleAnalyzer, StackGlobalFedFromTheMemoIsDangerous) {
  PickleBuilder p;
  // The strings go into the memo under harmless-looking use, and come back for the import.
  p.proto(4).short_unicode("subprocess").memoize().pop();
  p.short_unicode("check_output").memoize().pop();
  p.get(0).get(1).stack_global().short_unicode("id").tuple1().reduce().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(saw_global(a, "subprocess.check_output"));
}

TEST(PickleAnalyzer, DottedNameWalkingIntoOsIsDangerous) {
  PickleBuilder p;
  p.proto(4).short_unicode("torch").short_unicode("serialization.os.system").stack_global().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(
      has_problem(a, WeightProblemKind::pickle_dangerous_global, "serialization.os.system"));
}

TEST(PickleAnalyzer, ANameTooLongToKeepIsNotJudgedByItsHead) {
  // The head ("OrderedDict.aaaa...") is an allowed-looking class; the tail walks anywhere.
  PickleBuilder p;
  p.proto(4)
      .short_unicode("collections")
      .unicode("OrderedDict." + std::string(5000, 'a') + ".os.system")
      .stack_global()
      .stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_dynamic_global, "longer than 4096"));
}

TEST(PickleAnalyzer, DunderAttributeChainIsDangerous) {
  PickleBuilder p;
  p.proto(4).global("collections", "OrderedDict.__init__.__globals__").stop();
  EXPECT_EQ(analyze_pickle(p.bytes()).verdict, PickleVerdict::dangerous);
}

TEST(PickleAnalyzer, PoppedCallIsStillDangerous) {
  PickleBuilder p;
  p.proto(2).global("posix", "system").unicode("touch /tmp/x").tuple1().reduce().pop();
  p.empty_dict().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(saw_global(a, "posix.system"));
}

TEST(PickleAnalyzer, StateDictIsWeightsOnlyWithItsTensors) {
  std::string bytes = testing::state_dict_pickle({{"fc.weight", {4, 3}}, {"fc.bias", {4}}});
  PickleAnalysis a = analyze_pickle(testing::as_bytes_of(bytes));
  EXPECT_EQ(a.verdict, PickleVerdict::weights_only);
  EXPECT_TRUE(a.problems.empty()) << a.problems.front().message;
  ASSERT_EQ(a.tensors.size(), 2u);
  EXPECT_EQ(a.tensors[0].name, "fc.weight");
  EXPECT_EQ(a.tensors[0].dtype, "float32");
  EXPECT_EQ(a.tensors[0].shape, (std::vector<std::uint64_t>{4, 3}));
  EXPECT_EQ(a.tensors[0].bytes, 48u);
  EXPECT_EQ(a.tensors[1].name, "fc.bias");
  ASSERT_EQ(a.storages.size(), 2u);
  EXPECT_EQ(a.storages[1].key, "1");
  EXPECT_EQ(a.storages[1].numel, 4u);
  EXPECT_EQ(a.end_offset, bytes.size());
}

TEST(PickleAnalyzer, ListsEachTensorsStorageView) {
  // A transposed 3x4 view at element offset 5 of storage "7": strides (1, 3).
  testing::PickleBuilder pickle;
  pickle.proto(2).global("torch._utils", "_rebuild_tensor_v2").mark();
  pickle.mark().unicode("storage").global("torch", "HalfStorage").unicode("7").unicode("cpu");
  pickle.int1(20).tuple().binpersid().int1(5);
  pickle.mark().int1(3).int1(4).tuple().mark().int1(1).int1(3).tuple();
  pickle.newfalse().global("collections", "OrderedDict").empty_tuple().reduce();
  pickle.tuple().reduce().stop();
  PickleAnalysis a = analyze_pickle(pickle.bytes());
  ASSERT_EQ(a.tensors.size(), 1u);
  ASSERT_EQ(a.layouts.size(), 1u);
  EXPECT_EQ(a.tensors[0].name, "(root)");
  EXPECT_EQ(a.tensors[0].dtype, "float16");
  EXPECT_EQ(a.layouts[0].storage_key, "7");
  EXPECT_EQ(a.layouts[0].storage_offset, 5u);
  EXPECT_EQ(a.layouts[0].strides, (std::vector<std::int64_t>{1, 3}));
}

TEST(PickleAnalyzer, NestedCheckpointNamesTensorsByPath) {
  PickleBuilder p;
  p.proto(2).empty_dict().unicode("model").empty_dict().unicode("w");
  p.torch_tensor("HalfStorage", "0", {2}).setitem().setitem().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  ASSERT_EQ(a.tensors.size(), 1u);
  EXPECT_EQ(a.tensors[0].name, "model.w");
  EXPECT_EQ(a.tensors[0].dtype, "float16");
  EXPECT_EQ(a.tensors[0].bytes, 4u);
}

TEST(PickleAnalyzer, UnlistedGlobalIsUnknownCode) {
  PickleBuilder p;
  p.proto(2).global("sklearn.linear_model", "LogisticRegression").empty_tuple().reduce().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::unknown_code);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_unknown_global,
                          "sklearn.linear_model.LogisticRegression"));
}

TEST(PickleAnalyzer, StackGlobalWithComputedNameIsDangerous) {
  PickleBuilder p;
  p.proto(4).short_unicode("torch").global("collections", "OrderedDict").empty_tuple().reduce();
  p.stack_global().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_dynamic_global, "STACK_GLOBAL"));
}

TEST(PickleAnalyzer, ReportsWhatItSawBeforeAParseError) {
  PickleBuilder p;
  p.proto(2).global("runpy", "run_path").unicode("x").op(0xff);
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(saw_global(a, "runpy.run_path"));
  EXPECT_FALSE(a.complete);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_malformed, "unknown opcode 0xff"));
}

TEST(PickleAnalyzer, TruncatedPickleKeepsItsGlobals) {
  PickleBuilder p;
  p.proto(2).global("socket", "create_connection").raw("X\x10\x00\x00\x00ab");
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_FALSE(a.reached_stop);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::truncated, "BINUNICODE at offset"));
}

TEST(PickleAnalyzer, StackUnderflowAndMissingMemoAreMalformed) {
  PickleBuilder underflow;
  underflow.proto(2).reduce().stop();
  EXPECT_TRUE(has_problem(analyze_pickle(underflow.bytes()), WeightProblemKind::pickle_malformed,
                          "REDUCE at offset 2: stack underflow"));
  PickleBuilder memo;
  memo.proto(2).get(7).stop();
  EXPECT_TRUE(has_problem(analyze_pickle(memo.bytes()), WeightProblemKind::pickle_malformed,
                          "memo entry 7 is missing"));
}

TEST(PickleAnalyzer, PopCannotReachBelowAMark) {
  PickleBuilder p;
  p.proto(2).none().mark().reduce().stop();
  EXPECT_TRUE(has_problem(analyze_pickle(p.bytes()), WeightProblemKind::pickle_malformed,
                          "stack underflow"));
}

TEST(PickleAnalyzer, CapsOpcodesStackAndMemo) {
  PickleBuilder many;
  many.proto(2);
  for (int i = 0; i < 50; ++i) many.none().pop();
  many.none().stop();
  PickleLimits limits;
  limits.max_opcodes = 20;
  PickleAnalysis a = analyze_pickle(many.bytes(), limits);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::cap_exceeded, "more than 20 opcodes"));
  EXPECT_FALSE(a.complete);

  PickleBuilder deep;
  deep.proto(2);
  for (int i = 0; i < 50; ++i) deep.mark();
  limits = {};
  limits.max_stack_depth = 10;
  EXPECT_TRUE(has_problem(analyze_pickle(deep.bytes(), limits), WeightProblemKind::cap_exceeded,
                          "deeper than 10"));

  PickleBuilder memo;
  memo.proto(2).none();
  for (int i = 0; i < 10; ++i) memo.put(i);
  memo.stop();
  limits = {};
  limits.max_memo_entries = 5;
  EXPECT_TRUE(has_problem(analyze_pickle(memo.bytes(), limits), WeightProblemKind::cap_exceeded,
                          "more than 5 memo entries"));
}

TEST(PickleAnalyzer, ADeadlineStopsTheAnalysisLikeACap) {
  PickleBuilder many;
  many.proto(2);
  for (int i = 0; i < 10'000; ++i) many.none().pop();
  many.none().stop();
  PickleLimits limits;
  limits.deadline = std::chrono::steady_clock::now();
  PickleAnalysis a = analyze_pickle(many.bytes(), limits);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::cap_exceeded, "out of time"));
  EXPECT_FALSE(a.reached_stop);
}

// As CPython 3.11's _pickle.c reads them (each case checked with pickle.loads): INT
// with strtol(line, 0) and else int(line, 0), LONG with int(line, 0), GET and PUT
// with int(line).
TEST(PickleAnalyzer, IntegerLinesAreReadAsCPythonReadsThem) {
  auto parses = [](const std::string& pickle) {
    PickleAnalysis a = analyze_pickle(std::as_bytes(std::span(pickle)));
    return a.reached_stop && !has_problem(a, WeightProblemKind::pickle_malformed, "");
  };
  for (const std::string ok :
       {"I0x10\n.", "I-0o17\n.", "I0b1_0\n.", "I 7 \n.", "I00\n.", "I0_0\n.", "I+12\n.",
        "L123456789012345678901234567890L\n.", "L0x_ffL\n.", "Np007\ng7\n0.", "I010\n.",
        "I-0x7f\n.", "I-9223372036854775808\n.", "I9223372036854775808\n."}) {
    EXPECT_TRUE(parses(ok)) << ok;
  }
  for (const std::string bad : {"I09\n.", "I1__0\n.", "I_1\n.", "I1_\n.", "I0x\n.", "I\n.",
                                "I12a\n.", "I0b2\n.", "Np0x1\n0.", "L010L\n."}) {
    EXPECT_FALSE(parses(bad)) << bad;
  }
}

TEST(PickleAnalyzer, Protocol0GlobalsAreMappedAndEscapesDecoded) {
  PickleBuilder py2;
  py2.global("__builtin__", "eval").stop();
  EXPECT_EQ(analyze_pickle(py2.bytes()).verdict, PickleVerdict::dangerous);

  // UNICODE "\u006fs" spells "os": judged as what it spells.
  PickleBuilder escaped;
  escaped.proto(4).raw("V\\u006fs\n").raw("S'sys\\x74em'\n").stack_global().stop();
  PickleAnalysis a = analyze_pickle(escaped.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(saw_global(a, "os.system"));
}

TEST(PickleAnalyzer, InstImportsAndCalls) {
  PickleBuilder p;
  p.mark().raw("S'id'\n").raw("ios\nsystem\n").stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::dangerous);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_dangerous_global, "INST at offset"));
}

TEST(PickleAnalyzer, ExtensionCodesAndComputedCalleesAreUnknownCode) {
  PickleBuilder ext;
  ext.proto(2).op(0x82).op(1).stop();
  EXPECT_EQ(analyze_pickle(ext.bytes()).verdict, PickleVerdict::unknown_code);

  PickleBuilder computed;
  computed.proto(2).empty_list().empty_tuple().reduce().stop();
  PickleAnalysis a = analyze_pickle(computed.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::unknown_code);
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_unsafe_opcode, "not an imported global"));
}

TEST(PickleAnalyzer, DataOnlyProtocol4PickleHasNoCodeButIsNotTorchLoadable) {
  PickleBuilder p;
  p.proto(4).raw("\x95").raw(std::string("\x05\0\0\0\0\0\0\0", 8)).empty_dict().memoize();
  p.short_unicode("a").int1(1).setitem().stop();
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_EQ(a.verdict, PickleVerdict::weights_only);
  EXPECT_TRUE(a.globals.empty());
  EXPECT_TRUE(has_problem(a, WeightProblemKind::pickle_unsafe_opcode, "FRAME at offset 2"));
}

TEST(PickleAnalyzer, SelfReferencingListEndsAndStopsAtStop) {
  PickleBuilder p;
  p.proto(2).empty_list().put(0).get(0).append().stop().raw("trailing");
  PickleAnalysis a = analyze_pickle(p.bytes());
  EXPECT_TRUE(a.reached_stop);
  EXPECT_EQ(a.end_offset, p.str().size() - 8);
}

TEST(PickleAnalyzer, ClassifyGlobalFollowsTheAllowlist) {
  EXPECT_EQ(classify_global("torch._utils", "_rebuild_tensor_v2"), PickleVerdict::weights_only);
  EXPECT_EQ(classify_global("torch", "BFloat16Storage"), PickleVerdict::weights_only);
  EXPECT_EQ(classify_global("builtins", "getattr"), PickleVerdict::dangerous);
  EXPECT_EQ(classify_global("builtins", "dict"), PickleVerdict::unknown_code);
  EXPECT_EQ(classify_global("os.path", "join"), PickleVerdict::dangerous);
  EXPECT_EQ(classify_global("numpy", "load"), PickleVerdict::dangerous);
  EXPECT_EQ(classify_global("torch", "load"), PickleVerdict::dangerous);
}

}  // namespace
}  // namespace smpack
