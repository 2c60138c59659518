// Lint rules on hand-built ModelTrees: each test builds the smallest tree that shows a rule
// firing, and the fixed tree that does not.
#include <gtest/gtest.h>

#include <algorithm>

#include "smpack/lint.h"
#include "smpack/member_path.h"

namespace smpack {
namespace {

class Tree {
 public:
  Tree() {
    tree_.display_name = "model.tar.gz";
    tree_.source = ArtifactKind::streamed_archive;
    tree_.archive.emplace().container = ContainerKind::gzip;
  }
  Tree& file(const std::string& path, const std::string& content = "x") {
    Member member;
    member.path = member.stored_path = path;
    member.size = content.size();
    tree_.members.push_back(member);
    if (keep_content_by_default(path, content.size())) tree_.contents[path] = content;
    return *this;
  }
  Tree& member(Member m) {
    tree_.members.push_back(std::move(m));
    return *this;
  }
  Tree& weights(WeightFileReport report) {
    tree_.weights_scanned = true;
    tree_.weights.push_back(std::move(report));
    return *this;
  }
  Tree& container(ContainerKind kind) {
    tree_.archive->container = kind;
    return *this;
  }
  const ModelTree& get() const { return tree_; }

 private:
  ModelTree tree_;
};

LintReport lint(const Tree& tree, std::optional<Profile> profile = std::nullopt,
                std::map<std::string, std::string, std::less<>> env = {}) {
  LintOptions options;
  options.profile = profile;
  options.env = std::move(env);
  return lint_tree(tree.get(), options);
}

std::vector<const Finding*> with_rule(const LintReport& report, std::string_view rule) {
  std::vector<const Finding*> found;
  for (const auto& f : report.findings) {
    if (f.rule_id == rule) found.push_back(&f);
  }
  return found;
}

std::string all_rules(const LintReport& report) {
  std::string out;
  for (const auto& f : report.findings) out += f.rule_id + " ";
  return out;
}

const char* kGoodHandlers =
    "import torch\n"
    "def model_fn(model_dir):\n    return torch.jit.load(model_dir + '/model.pt')\n"
    "def predict_fn(data, model, context=None):\n    return model(data)\n";

TEST(LintRegistry, EveryRuleIsFoundAndWellFormed) {
  std::set<std::string_view> ids;
  for (const auto& rule : lint_rules()) {
    EXPECT_TRUE(ids.insert(rule.id).second) << "duplicate " << rule.id;
    EXPECT_EQ(find_rule(rule.id), &rule);
    EXPECT_FALSE(rule.summary.empty());
    EXPECT_TRUE(std::all_of(rule.id.begin(), rule.id.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || c == '-';
    })) << rule.id;
  }
  EXPECT_EQ(find_rule("no-such-rule"), nullptr);
}

TEST(LintRegistry, UnknownDisabledIdSuggestsTheClosest) {
  auto result = validate_rule_ids({"handler-arty"});
  ASSERT_FALSE(result.has_value());
  EXPECT_EQ(result.error().kind, ErrorKind::usage);
  EXPECT_NE(result.error().message.find("did you mean 'handler-arity'"), std::string::npos);
  EXPECT_TRUE(validate_rule_ids({"handler-arity", "req-unpinned"}).has_value());
}

TEST(LintProfile, DetectedFromContentsWithAReason) {
  auto hf = lint(Tree()
                     .file("config.json", R"({"architectures": ["BertForSequenceClassification"]})")
                     .file("pytorch_model.bin")
                     .file("code/inference.py", "from transformers import pipeline\n"));
  EXPECT_EQ(hf.profile, Profile::huggingface);
  EXPECT_NE(hf.profile_reason.find("BertForSequenceClassification"), std::string::npos);
  EXPECT_NE(hf.profile_reason.find("imports transformers"), std::string::npos);

  auto pt = lint(Tree().file("model.pt").file("code/inference.py", kGoodHandlers));
  EXPECT_EQ(pt.profile, Profile::pytorch);
  auto tf = lint(Tree().file("1/saved_model.pb").file("1/variables/variables.index"));
  EXPECT_EQ(tf.profile, Profile::tensorflow);
  auto generic = lint(Tree().file("weights.dat"));
  EXPECT_EQ(generic.profile, Profile::generic);
  auto given = lint(Tree().file("model.pt"), Profile::sklearn);
  EXPECT_EQ(given.profile, Profile::sklearn);
  EXPECT_TRUE(given.profile_given);
}

TEST(LintLayout, NotGzip) {
  auto report = lint(Tree().file("model.pt").container(ContainerKind::plain_tar));
  auto found = with_rule(report, "layout-not-gzip");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_EQ(found[0]->member, "");
  EXPECT_FALSE(report.deploy_ready);
  EXPECT_TRUE(with_rule(lint(Tree().file("model.pt")), "layout-not-gzip").empty());
}

TEST(LintLayout, WrappedFolderNamesTheFolderAndTheFix) {
  auto report = lint(Tree().file("model/model.pt").file("model/code/inference.py", kGoodHandlers));
  auto found = with_rule(report, "layout-wrapped");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_NE(found[0]->message.find("'model/'"), std::string::npos);
  EXPECT_NE(found[0]->message.find("tar -C model -czf model.tar.gz ."), std::string::npos);
  // Not repeated as "handler outside code/".
  EXPECT_TRUE(with_rule(report, "layout-handler-outside-code").empty()) << all_rules(report);
  // TF Serving's version folder is not a wrapper.
  EXPECT_TRUE(with_rule(lint(Tree().file("1/saved_model.pb")), "layout-wrapped").empty());
  EXPECT_TRUE(with_rule(lint(Tree().file("resnet/1/saved_model.pb")), "layout-wrapped").empty());
}

Member header(std::string stored, EntryType type = EntryType::file, std::string link = "") {
  Member member;
  auto checked = check_member_path(stored);
  member.stored_path = std::move(stored);
  member.path = checked.normalized;
  member.path_problem = checked.problem;
  member.type = type;
  member.link_target = std::move(link);
  member.mode = type == EntryType::directory ? 0755 : 0644;
  return member;
}

// Each hostile case has its own rule, names the member, and makes the input unsafe.
TEST(LintArchive, EachUnsafeMemberHasItsOwnRule) {
  struct Case {
    Member member;
    std::string rule, named;
  };
  const std::vector<Case> cases = {
      {header("../evil"), "archive-path-traversal", "../evil"},
      {header("/etc/cron.d/x"), "archive-absolute-path", "etc/cron.d/x"},
      {header(std::string("a\0b", 3)), "archive-bad-name", "a"},
      {header(std::string(5000, 'n')), "archive-bad-name", std::string(5000, 'n')},
      {header("link", EntryType::symlink, "../../etc/passwd"), "archive-link-escape", "link"},
      {header("hard", EntryType::hardlink, "/etc/shadow"), "archive-link-escape", "hard"},
      {header("dev", EntryType::char_device), "archive-special-file", "dev"},
      {header("pipe", EntryType::fifo), "archive-special-file", "pipe"},
  };
  for (const auto& c : cases) {
    auto report = lint(Tree().file("model.pt").member(c.member));
    auto found = with_rule(report, c.rule);
    ASSERT_EQ(found.size(), 1u) << c.rule << ": " << all_rules(report);
    EXPECT_EQ(found[0]->severity, Severity::error);
    EXPECT_TRUE(report.unsafe_input) << c.rule;
    EXPECT_NE(found[0]->message.find(c.member.stored_path.substr(0, 20)), std::string::npos)
        << found[0]->message;
  }
  Member inside = header("link", EntryType::symlink, "model.pt");
  EXPECT_FALSE(lint(Tree().file("model.pt").member(inside)).unsafe_input);
}

TEST(LintArchive, WritingThroughAnEarlierSymlinkIsUnsafe) {
  auto report = lint(Tree()
                         .member(header("a", EntryType::symlink, "b"))
                         .member(header("b", EntryType::directory))
                         .file("a/evil.txt")
                         .file("b/fine.txt"));
  auto found = with_rule(report, "archive-write-through-link");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_EQ(found[0]->member, "a/evil.txt");
  EXPECT_TRUE(report.unsafe_input);
  // A member that comes before the link is not written through it.
  EXPECT_TRUE(with_rule(lint(Tree().file("a/x").member(header("a", EntryType::symlink, "b"))),
                        "archive-write-through-link")
                  .empty());
}

TEST(LintArchive, NonUtf8NamesAreAWarning) {
  auto report = lint(Tree().file("model.pt").member(header("caf\xe9.bin")));
  auto found = with_rule(report, "archive-name-encoding");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_EQ(found[0]->severity, Severity::warning);
  EXPECT_FALSE(report.unsafe_input);
  EXPECT_TRUE(with_rule(lint(Tree().file("caf\xc3\xa9.bin")), "archive-name-encoding").empty());
}

TEST(LintArchive, SetuidIsAWarningNotUnsafe) {
  Member suid = header("run.sh");
  suid.mode = 04755;
  auto report = lint(Tree().file("model.pt").member(suid));
  auto found = with_rule(report, "archive-setuid");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_NE(found[0]->message.find("4755"), std::string::npos);
  EXPECT_FALSE(report.unsafe_input);
}

TEST(LintArchive, UnreadableInputIsOneFinding) {
  auto report =
      unreadable_input_report("m.tar.gz", Error::bad_input("m.tar.gz: member 'w.bin': truncated"));
  ASSERT_EQ(report.findings.size(), 1u);
  EXPECT_EQ(report.findings[0].rule_id, "archive-unreadable");
  EXPECT_TRUE(report.unsafe_input);
  EXPECT_FALSE(report.deploy_ready);
}

WeightFileReport weight(std::string member, WeightFormat format,
                        std::optional<PickleVerdict> verdict,
                        std::vector<WeightProblemKind> kinds = {}) {
  WeightFileReport report;
  report.member = std::move(member);
  report.format = format;
  report.verdict = verdict;
  for (auto kind : kinds)
    report.problems.push_back({kind, report.member + ": " + std::string(name_of(kind))});
  return report;
}

TEST(LintWeights, EachVerdictAndProblemHasItsRule) {
  using enum WeightProblemKind;
  struct Case {
    WeightFileReport report;
    std::vector<std::string> rules;
  };
  const std::vector<Case> cases = {
      {weight("w/a.pkl", WeightFormat::pickle, PickleVerdict::dangerous, {pickle_dangerous_global}),
       {"weights-dangerous-pickle"}},
      {weight("w/b.pt", WeightFormat::pytorch_zip, PickleVerdict::unknown_code,
              {pickle_unknown_global}),
       {"weights-unknown-code"}},
      {weight("w/c.pt", WeightFormat::torchscript_zip, PickleVerdict::unknown_code,
              {torchscript_code}),
       {}},
      {weight("w/d.pt", WeightFormat::pytorch_zip, PickleVerdict::weights_only,
              {zip_name_mismatch, zip_overlap}),
       {"weights-zip-anomaly"}},
      {weight("w/e.pt", WeightFormat::pytorch_zip, PickleVerdict::weights_only, {zip_crc_mismatch}),
       {"weights-corrupt"}},
      {weight("w/f.safetensors", WeightFormat::safetensors, std::nullopt, {safetensors_strict}),
       {"weights-safetensors-strict"}},
      {weight("w/g.pt", WeightFormat::pytorch_zip, PickleVerdict::weights_only, {not_available}),
       {"weights-partly-scanned"}},
      {weight("w/h.pt", WeightFormat::pytorch_zip, PickleVerdict::weights_only), {}},
      {weight("w/i.bin", WeightFormat::unknown, std::nullopt, {unrecognised_format}),
       {"weights-unknown-format"}},
      {weight("w/j.pkl", WeightFormat::pickle, PickleVerdict::weights_only, {pickle_not_judged}),
       {"weights-not-judged"}},
      {weight("w/k.keras", WeightFormat::keras_zip, std::nullopt, {keras_lambda}),
       {"weights-keras-lambda"}},
      {weight("w/l.h5", WeightFormat::hdf5, std::nullopt, {not_analysed}),
       {"weights-not-analysed"}},
  };
  for (const auto& c : cases) {
    auto report = lint(Tree().weights(c.report), Profile::generic);
    std::vector<std::string> got;
    for (const auto& f : report.findings) {
      if (!f.rule_id.starts_with("weights-")) continue;
      got.push_back(f.rule_id);
      EXPECT_EQ(f.member, c.report.member);
      EXPECT_NE(f.message.find(c.report.member), std::string::npos) << f.message;
    }
    EXPECT_EQ(got, c.rules) << c.report.member;
  }
}

// The sklearn profile takes pickled estimators, but only what an estimator imports.
TEST(LintWeights, EstimatorPicklesPassOnlyWithEstimatorGlobals) {
  auto estimator = weight("model.joblib", WeightFormat::pickle, PickleVerdict::unknown_code,
                          {WeightProblemKind::pickle_unknown_global});
  estimator.globals = {"sklearn.linear_model._base.LinearRegression",
                       "numpy.core.multiarray._reconstruct", "copyreg._reconstructor"};
  EXPECT_TRUE(
      with_rule(lint(Tree().weights(estimator), Profile::sklearn), "weights-unknown-code").empty());
  for (const char* intruder : {"pydoc.locate", "joblib.numpy_pickle.load"}) {
    auto hostile = estimator;
    hostile.globals.push_back(intruder);
    EXPECT_EQ(
        with_rule(lint(Tree().weights(hostile), Profile::sklearn), "weights-unknown-code").size(),
        1u)
        << intruder;
  }
}

TEST(LintWeights, DefaultPyTorchLoaderNeedsTorchScriptByContent) {
  auto state_dict = lint(
      Tree()
          .file("model.pth")
          .weights(weight("model.pth", WeightFormat::pytorch_zip, PickleVerdict::weights_only)),
      Profile::pytorch);
  auto found = with_rule(state_dict, "pytorch-default-not-torchscript");
  ASSERT_EQ(found.size(), 1u) << all_rules(state_dict);
  EXPECT_EQ(found[0]->member, "model.pth");
  auto scripted = lint(
      Tree()
          .file("model.pth")
          .weights(weight("model.pth", WeightFormat::torchscript_zip, PickleVerdict::unknown_code)),
      Profile::pytorch);
  EXPECT_TRUE(with_rule(scripted, "pytorch-default-not-torchscript").empty());
  // Weights not scanned (ls-style loading): the rule stays silent rather than guess.
  EXPECT_TRUE(
      with_rule(lint(Tree().file("model.pth"), Profile::pytorch), "pytorch-default-not-torchscript")
          .empty());
}

TEST(LintLayout, DuplicatesHandlerLocationRequirementsJunk) {
  auto report = lint(Tree()
                         .file("model.pt")
                         .file("model.pt")
                         .file("inference.py", kGoodHandlers)
                         .file("requirements.txt", "numpy==1.26.4\n")
                         .file("code/lib/dep/requirements.txt", "x\n")
                         .file("code/big.safetensors")
                         .file("code/__pycache__/a.pyc")
                         .file("code/__pycache__/b.pyc")
                         .file(".DS_Store"));
  EXPECT_EQ(with_rule(report, "archive-duplicate-member").size(), 1u);
  EXPECT_EQ(with_rule(report, "layout-handler-outside-code").size(), 1u);
  EXPECT_EQ(with_rule(report, "layout-requirements-not-installed").size(), 2u);
  EXPECT_EQ(with_rule(report, "layout-weights-in-code").size(), 1u);
  auto junk = with_rule(report, "layout-junk");
  ASSERT_EQ(junk.size(), 2u) << all_rules(report);
  EXPECT_EQ(junk[0]->member, ".DS_Store");
  EXPECT_EQ(junk[1]->member, "code/__pycache__");
  EXPECT_NE(junk[1]->message.find("2 members"), std::string::npos);
}

TEST(LintLayout, HandlerModuleMissingFollowsSagemakerProgram) {
  Tree tree;
  tree.file("model.pt").file("code/serve.py", kGoodHandlers);
  EXPECT_EQ(with_rule(lint(tree), "layout-handler-module-missing").size(), 1u);
  EXPECT_TRUE(with_rule(lint(tree, std::nullopt, {{"SAGEMAKER_PROGRAM", "serve.py"}}),
                        "layout-handler-module-missing")
                  .empty());
}

TEST(LintHandlers, TransformFnWithIoHandlers) {
  auto report =
      lint(Tree()
               .file("model.pt")
               .file("code/inference.py",
                     "def model_fn(d):\n    pass\ndef transform_fn(m, d, c, a):\n    pass\n"
                     "def input_fn(d, c):\n    pass\n"));
  auto found = with_rule(report, "handler-transform-with-io");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_EQ(found[0]->member, "code/inference.py");
  EXPECT_EQ(found[0]->line, 3);
  EXPECT_NE(found[0]->message.find("Cannot use transform_fn implementation in conjunction with"),
            std::string::npos);
}

TEST(LintHandlers, ArityUsesTheToolkitsMessageAndSaysWhen) {
  auto report = lint(Tree()
                         .file("model.pt")
                         .file("code/inference.py",
                               "def model_fn():\n    pass\n"
                               "def predict_fn(data, model, context, extra):\n    pass\n"));
  auto found = with_rule(report, "handler-arity");
  ASSERT_EQ(found.size(), 2u) << all_rules(report);
  EXPECT_EQ(found[0]->line, 1);
  EXPECT_NE(found[0]->message.find("model_fn takes 0 arguments but 1 were given."),
            std::string::npos);
  EXPECT_NE(found[0]->message.find("at model load"), std::string::npos);
  EXPECT_NE(found[1]->message.find("predict_fn takes 4 arguments but 2 were given."),
            std::string::npos);
  EXPECT_NE(found[1]->message.find("at the first request"), std::string::npos);
}

TEST(LintHandlers, EstimatorModelFnIsNamed) {
  auto report = lint(
      Tree()
          .file("model.pt")
          .file("code/inference.py", "def model_fn(features, labels, mode, params):\n    pass\n"));
  auto found = with_rule(report, "handler-arity");
  ASSERT_EQ(found.size(), 1u);
  EXPECT_NE(found[0]->message.find("TensorFlow Estimator"), std::string::npos);
}

TEST(LintHandlers, KwargsCannotTakeThePositionalContext) {
  auto report = lint(Tree()
                         .file("model.pt")
                         .file("code/inference.py",
                               std::string(kGoodHandlers) +
                                   "def output_fn(prediction, accept, **kwargs):\n    pass\n"));
  auto found = with_rule(report, "handler-context-not-accepted");
  ASSERT_EQ(found.size(), 1u) << all_rules(report);
  EXPECT_NE(found[0]->message.find(
                "TypeError: output_fn() takes 2 positional arguments but 3 were given"),
            std::string::npos);
  EXPECT_TRUE(with_rule(report, "handler-arity").empty());
}

TEST(LintHandlers, AsyncNestedAndNearMisses) {
  auto report =
      lint(Tree()
               .file("model.pt")
               .file("code/inference.py",
                     "async def model_fn(model_dir):\n    pass\n"
                     "class Handler:\n    def predict_fn(self, data, model):\n        pass\n"
                     "def preprocess(data, content_type):\n    pass\n"
                     "def output_fnc(p, a):\n    pass\n"));
  EXPECT_EQ(with_rule(report, "handler-async").size(), 1u) << all_rules(report);
  auto nested = with_rule(report, "handler-nested-only");
  ASSERT_EQ(nested.size(), 1u) << all_rules(report);
  EXPECT_EQ(nested[0]->line, 4);
  auto near = with_rule(report, "handler-near-miss");
  ASSERT_EQ(near.size(), 2u) << all_rules(report);
  EXPECT_NE(near[0]->message.find("did you mean input_fn"), std::string::npos);
  EXPECT_NE(near[1]->message.find("did you mean output_fn"), std::string::npos);
}

TEST(LintHandlers, AHelperTheModuleCallsIsNoNearMiss) {
  // preprocess() is called by predict_fn: a helper, not a misnamed input_fn.
  auto report = lint(Tree()
                         .file("model.pt")
                         .file("code/inference.py",
                               "def preprocess(data):\n    return data\n"
                               "def predict_fn(data, model):\n    return model(preprocess(data))\n"
                               "def postprocess(p, a):\n    return p\n"));
  auto near = with_rule(report, "handler-near-miss");
  ASSERT_EQ(near.size(), 1u) << all_rules(report);  // postprocess is never used
  EXPECT_NE(near[0]->message.find("'postprocess'"), std::string::npos) << near[0]->message;
}

TEST(LintHandlers, SyntaxErrorIsReportedWhereItIs) {
  auto report = lint(Tree().file("model.pt").file("code/inference.py", "def model_fn(x:\n"));
  auto found = with_rule(report, "handler-syntax-error");
  ASSERT_FALSE(found.empty()) << all_rules(report);
  EXPECT_EQ(found[0]->member, "code/inference.py");
  EXPECT_GT(found[0]->line, 0);
}

TEST(LintContainers, PyTorchDefaultLoader) {
  auto two = lint(Tree().file("a.pt").file("b.pth").file("code/inference.py", "import torch\n"));
  auto found = with_rule(two, "pytorch-default-model");
  ASSERT_EQ(found.size(), 1u) << all_rules(two);
  EXPECT_NE(found[0]->message.find("Exactly one .pth or .pt file is required for PyTorch models: "
                                   "['a.pt', 'b.pth']"),
            std::string::npos);
  EXPECT_TRUE(
      with_rule(lint(Tree().file("model.pt").file("other.pt")), "pytorch-default-model").empty());
  EXPECT_TRUE(with_rule(lint(Tree().file("only.pth")), "pytorch-default-model").empty());
}

TEST(LintContainers, PyTorchDefaultInputUnpicklesNpyBodies) {
  const auto bare = lint(Tree().file("model.pt"), Profile::pytorch);
  const auto found = with_rule(bare, "pytorch-default-input-unpickles");
  ASSERT_EQ(found.size(), 1u) << all_rules(bare);
  EXPECT_EQ(found[0]->severity, Severity::warning);
  EXPECT_NE(found[0]->message.find("np.load(allow_pickle=True)"), std::string::npos);
  // Only model_fn: the default input_fn still decodes the bodies.
  EXPECT_EQ(with_rule(lint(Tree()
                               .file("model.pt")
                               .file("code/inference.py", "def model_fn(model_dir):\n  return 1\n"),
                           Profile::pytorch),
                      "pytorch-default-input-unpickles")
                .size(),
            1u);
  for (const char* own :
       {"def input_fn(body, content_type):\n  return body\n",
        "def transform_fn(model, body, content_type, accept):\n  return body\n"}) {
    EXPECT_TRUE(
        with_rule(lint(Tree().file("model.pt").file("code/inference.py", own), Profile::pytorch),
                  "pytorch-default-input-unpickles")
            .empty())
        << own;
  }
  EXPECT_TRUE(with_rule(lint(Tree().file("model.joblib"), Profile::sklearn),
                        "pytorch-default-input-unpickles")
                  .empty());
}

TEST(LintContainers, HuggingFaceNeedsATask) {
  Tree no_architectures;
  no_architectures.file("config.json", R"({"model_type": "bert"})").file("model.safetensors");
  EXPECT_EQ(with_rule(lint(no_architectures, Profile::huggingface), "huggingface-no-task").size(),
            1u);
  EXPECT_TRUE(with_rule(lint(no_architectures, Profile::huggingface, {{"HF_TASK", "fill-mask"}}),
                        "huggingface-no-task")
                  .empty());
  Tree good;
  good.file("config.json", R"({"architectures": ["GPT2LMHeadModel"]})");
  EXPECT_TRUE(with_rule(lint(good), "huggingface-no-task").empty());
}

TEST(LintContainers, TensorFlowServing) {
  auto report = lint(Tree()
                         .file("export/saved_model.pb")
                         .file("code/inference.py", "def input_handler(data, context):\n    pass\n")
                         .file("code/requirements.txt", "numpy==1.26.4\n")
                         .file("code/lib/dep.whl"),
                     Profile::tensorflow);
  EXPECT_EQ(with_rule(report, "tensorflow-no-saved-model").size(), 1u) << all_rules(report);
  EXPECT_EQ(with_rule(report, "tensorflow-handlers").size(), 1u);
  EXPECT_EQ(with_rule(report, "tensorflow-requirements-ignored").size(), 1u);
}

TEST(LintContainers, SklearnNeedsModelFnAndIgnoresTransformFn) {
  auto report = lint(Tree()
                         .file("model.joblib")
                         .file("code/inference.py", "def transform_fn(m, d, c, a):\n    pass\n"),
                     Profile::sklearn);
  EXPECT_EQ(with_rule(report, "handler-no-model-fn").size(), 1u) << all_rules(report);
  EXPECT_EQ(with_rule(report, "sklearn-transform-fn-ignored").size(), 1u);
}

TEST(LintRequirements, InvalidLinesConflictsDuplicatesAndIncludes) {
  auto report = lint(Tree()
                         .file("model.pt")
                         .file("code/inference.py", kGoodHandlers)
                         .file("code/requirements.txt",
                               "numpy==1.26.4\n"
                               "-r base.txt\n"
                               "-r missing.txt\n"
                               "pandas=2.0\n"
                               "numpy<1.26\n"
                               "requests==2.31.0\n"
                               "Requests==2.31.0\n"
                               "./wheels/dep-1.0-py3-none-any.whl\n"
                               "torch==2.0.1\n")
                         .file("code/base.txt", "scipy\n"));
  auto invalid = with_rule(report, "req-invalid-line");
  ASSERT_EQ(invalid.size(), 1u) << all_rules(report);
  EXPECT_EQ(invalid[0]->line, 4);
  auto conflict = with_rule(report, "req-conflict");
  ASSERT_EQ(conflict.size(), 1u) << all_rules(report);
  EXPECT_EQ(conflict[0]->line, 5);
  EXPECT_EQ(with_rule(report, "req-duplicate").size(), 1u);
  auto missing = with_rule(report, "req-include-missing");
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0]->line, 3);
  EXPECT_EQ(with_rule(report, "req-local-path-missing").size(), 1u);
  EXPECT_EQ(with_rule(report, "req-framework-reinstall").size(), 1u);
  auto unpinned = with_rule(report, "req-unpinned");  // numpy<1.26 and scipy
  ASSERT_EQ(unpinned.size(), 2u);
  EXPECT_EQ(unpinned[0]->member, "code/base.txt");
  EXPECT_EQ(unpinned[1]->line, 5);
  EXPECT_EQ(with_rule(report, "req-needs-network").size(), 1u);
}

TEST(LintRequirements, LocalPathsAndNetwork) {
  auto report = lint(Tree()
                         .file("model.pt")
                         .file("code/wheels/dep-1.0-py3-none-any.whl")
                         .file("code/requirements.txt",
                               "--no-index\n"
                               "/opt/ml/model/code/wheels/dep-1.0-py3-none-any.whl\n"
                               "wheels/dep-1.0-py3-none-any.whl\n"));
  EXPECT_TRUE(with_rule(report, "req-local-path-missing").empty()) << all_rules(report);
  EXPECT_EQ(with_rule(report, "req-relative-path").size(), 1u);
  EXPECT_TRUE(with_rule(report, "req-needs-network").empty());
  auto with_arn = lint(Tree().file("model.pt").file("code/requirements.txt", "numpy==1.0\n"),
                       std::nullopt, {{"CA_REPOSITORY_ARN", "arn:aws:codeartifact:x"}});
  EXPECT_TRUE(with_rule(with_arn, "req-needs-network").empty());
}

TEST(LintOptions, DisabledRulesDoNotReport) {
  Tree tree;
  tree.file("model.pt").container(ContainerKind::zip);
  LintOptions options;
  options.disabled = {"layout-not-gzip"};
  auto report = lint_tree(tree.get(), options);
  EXPECT_TRUE(with_rule(report, "layout-not-gzip").empty());
  EXPECT_TRUE(report.deploy_ready);
}

TEST(LintFormat, TextLineShape) {
  auto report =
      lint(Tree().file("model.pt").file("code/inference.py", "def model_fn():\n    pass\n"));
  auto text = format_lint_text(std::span(&report, 1));
  EXPECT_NE(text.find("code/inference.py:1: error: TypeError: model_fn takes 0 arguments"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("[handler-arity]\n"), std::string::npos);
  EXPECT_NE(text.find("model.tar.gz: profile pytorch ("), std::string::npos);
  EXPECT_NE(text.find("not deploy-ready"), std::string::npos);
}

TEST(LintFormat, TextEscapesControlCharactersInNames) {
  auto report = lint(Tree().file("model.pt").file("x\x1b[2J.pyc"));
  auto text = format_lint_text(std::span(&report, 1));
  EXPECT_EQ(text.find('\x1b'), std::string::npos);
  EXPECT_NE(text.find("x\\x1b[2J.pyc"), std::string::npos);
}

// ---- the LLM servers: LMI, TGI, TEI -------------------------------------------------------

Tree hugging_face_llm() {
  Tree tree;
  tree.file("config.json", R"({"architectures": ["LlamaForCausalLM"]})")
      .file("tokenizer.json", "{}")
      .file("model.safetensors");
  return tree;
}

TEST(LintLlmServers, ServingPropertiesDecidesLmiAndItsValuesAreTyped) {
  Tree tree = hugging_face_llm();
  tree.file("serving.properties",
            "# LMI\nengine = Python\noption.rolling_batch=vlm\n"
            "option.tensor_parallel_degree : max\noption.max_rolling_batch_size=abc\n"
            "option.trust_remote_code=TRUE\noption.dtype=fp\\\n  16\n! comment\n"
            "option.custom_backend_arg=anything\n");
  const auto report = lint(tree);
  EXPECT_EQ(report.profile, Profile::djl_lmi);
  EXPECT_NE(report.profile_reason.find("serving.properties"), std::string::npos);
  const auto invalid = with_rule(report, "djl-option-invalid");
  ASSERT_EQ(invalid.size(), 2u) << all_rules(report);
  EXPECT_EQ(invalid[0]->line, 3);  // option.rolling_batch=vlm
  EXPECT_NE(invalid[0]->message.find("vllm"), std::string::npos);
  EXPECT_EQ(invalid[1]->line, 5);  // the count; fp\ + 16 continues into fp16, which is valid
  EXPECT_TRUE(with_rule(report, "llm-config-missing").empty());
}

TEST(LintLlmServers, PropertiesEscapesAndZeroCountsReadAsLmiReadsThem) {
  Tree tree = hugging_face_llm();
  tree.file("serving.properties",
            "option.rolling_batch=vll\\u006d\nmax_batch_delay=0\nminWorkers=0\nbatch_size=0\n");
  const auto report = lint(tree);
  const auto invalid = with_rule(report, "djl-option-invalid");
  ASSERT_EQ(invalid.size(), 1u) << all_rules(report);  // only batch_size must be above 0
  EXPECT_EQ(invalid[0]->line, 4);
}

TEST(LintLlmServers, LmiNeedsConfigJsonUnlessTheModelIsElsewhere) {
  Tree local;
  local.file("serving.properties", "engine=Python\n").file("model.safetensors");
  EXPECT_EQ(with_rule(lint(local), "llm-config-missing").size(), 1u);
  Tree hub;
  hub.file("serving.properties", "engine=Python\noption.model_id=meta-llama/Llama-3-8B\n");
  EXPECT_TRUE(with_rule(lint(hub), "llm-config-missing").empty());
  EXPECT_TRUE(with_rule(lint(local, std::nullopt, {{"OPTION_MODEL_ID", "s3://b/llama/"}}),
                        "llm-config-missing")
                  .empty());
  EXPECT_TRUE(with_rule(lint(local, std::nullopt, {{"HF_MODEL_ID", "meta-llama/Llama-3-8B"}}),
                        "llm-config-missing")
                  .empty());
}

TEST(LintLlmServers, SettingsInTheEnvironmentPickTgiOrTei) {
  const Tree tree = hugging_face_llm();
  const auto tgi = lint(tree, std::nullopt, {{"MAX_TOTAL_TOKENS", "4096"}});
  EXPECT_EQ(tgi.profile, Profile::tgi);
  EXPECT_NE(tgi.profile_reason.find("MAX_TOTAL_TOKENS"), std::string::npos);
  const auto tei = lint(tree, std::nullopt, {{"POOLING", "cls"}});
  EXPECT_EQ(tei.profile, Profile::tei);
  EXPECT_EQ(lint(tree, std::nullopt, {{"OPTION_ROLLING_BATCH", "vllm"}}).profile, Profile::djl_lmi);
  EXPECT_EQ(lint(tree).profile, Profile::huggingface);  // files alone: the HF toolkit
  // A server's setting decides however much the files say Hugging Face.
  EXPECT_EQ(lint(tree, std::nullopt,
                 {{"MAX_TOTAL_TOKENS", "4096"},
                  {"HF_MODEL_ID", "/opt/ml/model"},
                  {"HF_TASK", "text-generation"}})
                .profile,
            Profile::tgi);
  Tree with_code = hugging_face_llm();
  with_code.file("serving.properties", "engine=Python\n")
      .file("code/a.py", "import transformers\n")
      .file("code/b.py", "import transformers\n");
  EXPECT_EQ(lint(with_code).profile, Profile::djl_lmi);
}

TEST(LintLlmServers, TeiNeedsTokenizerJsonTgiWarnsWithoutAnyTokenizer) {
  Tree tree;
  tree.file("config.json", R"({"architectures": ["BertModel"]})")
      .file("tokenizer_config.json", "{}")
      .file("model.safetensors");
  const auto tei_report = lint(tree, Profile::tei);
  const auto tei = with_rule(tei_report, "llm-tokenizer-missing");
  ASSERT_EQ(tei.size(), 1u);
  EXPECT_EQ(tei[0]->severity, Severity::error);
  EXPECT_TRUE(with_rule(lint(tree, Profile::tgi), "llm-tokenizer-missing").empty());
  Tree bare;
  bare.file("config.json", "{}").file("model.safetensors");
  const auto tgi_report = lint(bare, Profile::tgi);
  const auto tgi = with_rule(tgi_report, "llm-tokenizer-missing");
  ASSERT_EQ(tgi.size(), 1u);
  EXPECT_EQ(tgi[0]->severity, Severity::warning);
}

TEST(LintLlmServers, TgiWarnsAboutBinWeightsAndIgnoresCode) {
  Tree tree;
  tree.file("config.json", "{}")
      .file("tokenizer.json", "{}")
      .file("pytorch_model.bin")
      .file("code/inference.py", "def model_fn(a, b, c, d):\n    pass\n");
  const auto report = lint(tree, Profile::tgi);
  EXPECT_EQ(with_rule(report, "llm-weights-not-safetensors").size(), 1u);
  EXPECT_EQ(with_rule(report, "llm-code-ignored").size(), 1u);
  // code/ is never imported: no handler finding about it.
  EXPECT_TRUE(with_rule(report, "handler-arity").empty()) << all_rules(report);
  EXPECT_TRUE(report.handler_module.empty());
}

TEST(LintLlmServers, ShardIndexNamesOnlyShardsThatExistAndTensorsTheyHold) {
  Tree tree = hugging_face_llm();
  tree.file("model-00001-of-00002.safetensors")
      .file("model.safetensors.index.json",
            R"({"metadata": {}, "weight_map": {"a": "model-00001-of-00002.safetensors",
                "b": "model-00001-of-00002.safetensors",
                "c": "model-00002-of-00002.safetensors"}})");
  WeightFileReport shard;
  shard.member = "model-00001-of-00002.safetensors";
  shard.format = WeightFormat::safetensors;
  TensorInfo tensor;
  tensor.name = "a";
  shard.tensors.push_back(tensor);
  tree.weights(shard);
  const auto report = lint(tree, Profile::tgi);
  const auto findings = with_rule(report, "hf-shard-index-invalid");
  ASSERT_EQ(findings.size(), 2u) << all_rules(report);
  EXPECT_EQ(findings[0]->severity, Severity::warning);  // TGI never reads the index
  EXPECT_NE(findings[0]->message.find("puts b in model-00001"), std::string::npos);
  EXPECT_NE(findings[1]->message.find("model-00002-of-00002.safetensors (for c)"),
            std::string::npos);
  Tree broken = hugging_face_llm();
  broken.file("model.safetensors.index.json", R"({"weight_map": []})");
  const auto huggingface = lint(broken);
  const auto broken_findings = with_rule(huggingface, "hf-shard-index-invalid");
  ASSERT_EQ(broken_findings.size(), 1u);
  EXPECT_EQ(broken_findings[0]->severity, Severity::error);
}

}  // namespace
}  // namespace smpack
