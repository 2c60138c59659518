#include "smpack/handler_scan.h"

#include <gtest/gtest.h>

#include <map>
#include <string>

namespace smpack {
namespace {

// Scans `source` as code/inference.py, with `files` as the other files of the archive.
ModuleScan scan(const std::string& source, const std::map<std::string, std::string>& files = {},
                const HandlerScanLimits& limits = {}) {
  const SourceLookup lookup = [&files](std::string_view path) -> const std::string* {
    auto it = files.find(std::string(path));
    return it == files.end() ? nullptr : &it->second;
  };
  return scan_handler_module("code/inference.py", source, lookup, limits);
}

const HandlerBinding& binding(const ModuleScan& result, std::string_view name) {
  const HandlerBinding* found = result.find(name);
  if (found == nullptr) {
    static const HandlerBinding kMissing{};
    ADD_FAILURE() << "no binding " << name;
    return kMissing;
  }
  return *found;
}

bool has_problem(const ModuleScan& result, ScanProblem::Kind kind, int line) {
  for (const ScanProblem& problem : result.problems) {
    if (problem.kind == kind && problem.line == line) return true;
  }
  return false;
}

TEST(HandlerScan, CountsParametersAsInspectSignatureDoes) {
  const ModuleScan result = scan(
      "def model_fn(model_dir):\n  pass\n"
      "def input_fn(body, content_type, /, context=None): pass\n"
      "def predict_fn(data, model, **kw): pass\n"
      "def output_fn(prediction, accept, *, context=None): pass\n"
      "def transform_fn(*args, ctx, **kwargs): pass\n");
  EXPECT_TRUE(result.problems.empty());
  EXPECT_EQ(binding(result, "model_fn").params, 1);
  EXPECT_EQ(binding(result, "model_fn").line, 1);
  EXPECT_EQ(binding(result, "model_fn").file, "code/inference.py");
  EXPECT_EQ(binding(result, "input_fn").params, 3);
  EXPECT_EQ(binding(result, "input_fn").parameters[0].kind, Parameter::Kind::positional_only);
  EXPECT_TRUE(binding(result, "input_fn").parameters[2].has_default);
  EXPECT_EQ(binding(result, "predict_fn").params, 3);
  EXPECT_EQ(binding(result, "predict_fn").parameters[2].kind, Parameter::Kind::var_keyword);
  EXPECT_EQ(binding(result, "output_fn").params, 3);
  EXPECT_EQ(binding(result, "output_fn").parameters[2].kind, Parameter::Kind::keyword_only);
  EXPECT_EQ(binding(result, "transform_fn").params, 3);
  EXPECT_EQ(binding(result, "transform_fn").line, 6);
}

TEST(HandlerScan, DefaultsAndAnnotationsWithCommasDoNotSplitParameters) {
  const ModuleScan result = scan(
      "def predict_fn(data: 'a, b', model=lambda x, y=(1, 2): x,\n"
      "               context: Dict[str, int] = {'k': (1, ',')}) -> 'x, y':\n"
      "    pass\n"
      "input_fn = lambda body, ct=lambda a, b: a: body\n");
  EXPECT_TRUE(result.problems.empty());
  EXPECT_EQ(binding(result, "predict_fn").params, 3);
  EXPECT_EQ(binding(result, "input_fn").kind, BindingKind::lambda);
  EXPECT_EQ(binding(result, "input_fn").params, 2);
}

TEST(HandlerScan, AsyncDefIsAsync) {
  const ModuleScan result = scan("async def predict_fn(data, model):\n  pass\n");
  EXPECT_EQ(binding(result, "predict_fn").kind, BindingKind::async_function);
  EXPECT_TRUE(binding(result, "predict_fn").is_async());
}

TEST(HandlerScan, AliasTakesTheTargetAsBoundAtThatPoint) {
  const ModuleScan result = scan(
      "def _load(a): pass\n"
      "model_fn = _load\n"
      "def _load(a, b, c): pass\n"
      "predict_fn = undefined_name\n");
  const HandlerBinding& model_fn = binding(result, "model_fn");
  EXPECT_EQ(model_fn.kind, BindingKind::alias);
  EXPECT_EQ(model_fn.target_kind, BindingKind::function);
  EXPECT_EQ(model_fn.params, 1);
  EXPECT_NE(model_fn.note.find("alias of _load"), std::string::npos);
  EXPECT_FALSE(binding(result, "predict_fn").is_callable().has_value());
}

TEST(HandlerScan, AssignmentForms) {
  const ModuleScan result = scan(
      "def _a(x): pass\n"
      "def _b(x, y): pass\n"
      "input_fn, output_fn = _a, _b\n"
      "model_fn = None\n"
      "predict_fn: Callable = _b\n"
      "transform_fn: Callable\n"
      "handler = make_handler()\n"
      "pre_model_fn = 'json'\n");
  EXPECT_EQ(binding(result, "input_fn").params, 1);
  EXPECT_EQ(binding(result, "output_fn").params, 2);
  EXPECT_EQ(binding(result, "model_fn").kind, BindingKind::none_value);
  EXPECT_EQ(binding(result, "predict_fn").params, 2);
  EXPECT_EQ(result.find("transform_fn"), nullptr);
  EXPECT_FALSE(binding(result, "handler").is_callable().has_value());
  EXPECT_EQ(binding(result, "pre_model_fn").is_callable(), false);
}

TEST(HandlerScan, DelAndRedefinition) {
  const ModuleScan result = scan(
      "def input_fn(a, b): pass\n"
      "del input_fn\n"
      "def model_fn(a): pass\n"
      "def model_fn(a, b): pass\n");
  EXPECT_EQ(binding(result, "input_fn").kind, BindingKind::deleted);
  EXPECT_EQ(binding(result, "input_fn").is_callable(), false);
  EXPECT_EQ(binding(result, "model_fn").params, 2);
  EXPECT_EQ(binding(result, "model_fn").line, 4);
}

TEST(HandlerScan, BranchesAreConditionalAndTheLastOneWins) {
  const ModuleScan result = scan(
      "if GPU:\n"
      "    def model_fn(a): pass\n"
      "else:\n"
      "    def model_fn(a, b): pass\n"
      "with ctx:\n"
      "    def predict_fn(d, m): pass\n");
  const HandlerBinding& model_fn = binding(result, "model_fn");
  EXPECT_EQ(model_fn.params, 2);
  EXPECT_EQ(model_fn.line, 4);
  EXPECT_TRUE(model_fn.conditional);
  EXPECT_NE(model_fn.note.find("also bound at line 2"), std::string::npos);
  EXPECT_FALSE(binding(result, "predict_fn").conditional);
}

TEST(HandlerScan, NestedDefinitionsAreNotModuleLevel) {
  const ModuleScan result = scan(
      "class Handler:\n"
      "    def model_fn(self, d): pass\n"
      "def main():\n"
      "    def predict_fn(d, m): pass\n"
      "if __name__ == '__main__':\n"
      "    def input_fn(b, c): pass\n"
      "else:\n"
      "    def output_fn(p, a): pass\n"
      "def transform_fn(m, d, c, a): pass\n"
      "class Other:\n"
      "    def transform_fn(self): pass\n");
  EXPECT_EQ(result.find("model_fn"), nullptr);
  EXPECT_EQ(result.find("input_fn"), nullptr);
  EXPECT_NE(result.find("output_fn"), nullptr);
  ASSERT_EQ(result.nested.size(), 3u);
  EXPECT_EQ(result.nested[0].name, "model_fn");
  EXPECT_EQ(result.nested[0].line, 2);
  EXPECT_EQ(result.nested[0].container, "class Handler");
  EXPECT_EQ(result.nested[1].container, "def main");
  EXPECT_EQ(result.nested[2].container, "if __name__ == \"__main__\"");
}

TEST(HandlerScan, Decorators) {
  const ModuleScan result = scan(
      "import functools\n"
      "def keep(fn):\n"
      "    @functools.wraps(fn)\n"
      "    def wrapper(*a, **k): return fn(*a, **k)\n"
      "    return wrapper\n"
      "def swap(fn):\n"
      "    def wrapper(*a, **k): return fn(*a, **k)\n"
      "    return wrapper\n"
      "@keep\n"
      "def model_fn(a): pass\n"
      "@swap\n"
      "def input_fn(a, b): pass\n"
      "@functools.lru_cache(maxsize=1)\n"
      "def predict_fn(a, b): pass\n"
      "@somewhere.trace\n"
      "def output_fn(a, b): pass\n");
  EXPECT_EQ(binding(result, "model_fn").params, 1);
  EXPECT_TRUE(binding(result, "model_fn").signature_known);
  EXPECT_FALSE(binding(result, "input_fn").signature_known);
  EXPECT_FALSE(binding(result, "input_fn").params.has_value());
  EXPECT_EQ(binding(result, "predict_fn").params, 2);
  EXPECT_EQ(binding(result, "predict_fn").decorators,
            std::vector<std::string>{"functools.lru_cache"});
  EXPECT_FALSE(binding(result, "output_fn").signature_known);
  EXPECT_EQ(binding(result, "output_fn").line, 16);
}

TEST(HandlerScan, ResolvesSiblingImports) {
  const std::map<std::string, std::string> files = {
      {"code/helpers.py", "def load(model_dir, context=None): pass\ndef out(p, a): pass\n"},
      {"code/pkg/__init__.py", "from .impl import predict_fn\n"},
      {"code/pkg/impl.py", "async def predict_fn(d, m): pass\n"},
  };
  const ModuleScan result = scan(
      "from helpers import load as model_fn\n"
      "import helpers\n"
      "output_fn = helpers.out\n"
      "from pkg import predict_fn\n"
      "import torch\n",
      files);
  EXPECT_TRUE(result.problems.empty());
  const HandlerBinding& model_fn = binding(result, "model_fn");
  EXPECT_EQ(model_fn.kind, BindingKind::imported);
  EXPECT_EQ(model_fn.target_kind, BindingKind::function);
  EXPECT_EQ(model_fn.params, 2);
  EXPECT_EQ(model_fn.line, 1);
  EXPECT_EQ(binding(result, "output_fn").params, 2);
  EXPECT_TRUE(binding(result, "predict_fn").is_async());
  EXPECT_EQ(binding(result, "helpers").module_file, "code/helpers.py");
  EXPECT_EQ(binding(result, "torch").module_name, "torch");
  EXPECT_TRUE(binding(result, "torch").module_file.empty());
}

TEST(HandlerScan, ImportProblems) {
  const std::map<std::string, std::string> files = {
      {"code/helpers.py", "def load(d): pass\n"},
      {"code/broken.py", "def f(:\n"},
  };
  const ModuleScan result = scan(
      "from .helpers import load\n"
      "from helpers import missing\n"
      "import broken\n",
      files);
  EXPECT_TRUE(has_problem(result, ScanProblem::Kind::unresolved_import, 1));
  EXPECT_TRUE(has_problem(result, ScanProblem::Kind::unresolved_import, 2));
  // The relative import is still resolved, so the binding says what was meant.
  EXPECT_EQ(binding(result, "load").params, 1);
  bool broken_reported = false;
  for (const ScanProblem& problem : result.problems) {
    broken_reported |= problem.file == "code/broken.py";
  }
  EXPECT_TRUE(broken_reported);
}

TEST(HandlerScan, StarImportsFollowAll) {
  const std::map<std::string, std::string> files = {
      {"code/a.py",
       "__all__ = ['input_fn']\ndef input_fn(b, c): pass\ndef output_fn(p, a): pass\n"},
      {"code/b.py", "def model_fn(d): pass\ndef _hidden(): pass\n"},
  };
  const ModuleScan result = scan("from a import *\nfrom b import *\nfrom torch import *\n", files);
  EXPECT_NE(result.find("input_fn"), nullptr);
  EXPECT_EQ(result.find("output_fn"), nullptr);
  EXPECT_NE(result.find("model_fn"), nullptr);
  EXPECT_EQ(result.find("_hidden"), nullptr);
  ASSERT_EQ(result.notes.size(), 1u);
  EXPECT_EQ(result.notes[0].line, 3);
}

TEST(HandlerScan, ImportCyclesAndDepthAreBounded) {
  const std::map<std::string, std::string> files = {
      {"code/a.py", "from b import g\ndef f(x): pass\n"},
      {"code/b.py", "from a import f\ndef g(x): pass\n"},
  };
  const ModuleScan result = scan("from a import f\n", files);
  EXPECT_EQ(binding(result, "f").params, 1);
  EXPECT_FALSE(result.notes.empty());

  std::map<std::string, std::string> chain;
  for (int i = 0; i < 20; ++i) {
    chain["code/m" + std::to_string(i) + ".py"] = "from m" + std::to_string(i + 1) + " import f\n";
  }
  const ModuleScan deep = scan("from m0 import f\n", chain);
  bool capped = false;
  for (const ScanProblem& problem : deep.problems) {
    capped |= problem.kind == ScanProblem::Kind::limit_exceeded;
  }
  EXPECT_TRUE(capped);
}

TEST(HandlerScan, GlobalInAFunctionMakesTheBindingUnknown) {
  const ModuleScan result = scan(
      "def model_fn(d): pass\n"
      "def setup():\n"
      "    global model_fn, predict_fn\n"
      "    model_fn = None\n"
      "    predict_fn = make()\n");
  EXPECT_FALSE(binding(result, "model_fn").signature_known);
  EXPECT_FALSE(binding(result, "model_fn").is_callable().has_value());
  EXPECT_NE(binding(result, "model_fn").note.find("global"), std::string::npos);
  EXPECT_TRUE(binding(result, "predict_fn").conditional);
}

TEST(HandlerScan, Python2StatementsAreProblemsWithPositions) {
  const ModuleScan result = scan(
      "def model_fn(d):\n"
      "    print \"loading\"\n"
      "try:\n"
      "    pass\n"
      "except ImportError, e:\n"
      "    raise ValueError, 'x'\n");
  EXPECT_TRUE(has_problem(result, ScanProblem::Kind::python2_syntax, 2));
  EXPECT_TRUE(has_problem(result, ScanProblem::Kind::python2_syntax, 5));
  EXPECT_TRUE(has_problem(result, ScanProblem::Kind::python2_syntax, 6));
  EXPECT_EQ(result.problems.front().column, 5);
  EXPECT_EQ(binding(result, "model_fn").params, 1);
}

TEST(HandlerScan, SyntaxErrorsKeepWhatCameBefore) {
  const ModuleScan result = scan("def model_fn(d): pass\nx = 'open\ndef predict_fn(d, m): pass\n");
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].kind, ScanProblem::Kind::syntax_error);
  EXPECT_EQ(result.problems[0].line, 2);
  EXPECT_NE(result.find("model_fn"), nullptr);

  const ModuleScan block = scan("def model_fn(d):\nx = 1\n");
  ASSERT_EQ(block.problems.size(), 1u);
  EXPECT_EQ(block.problems[0].message,
            "expected an indented block after function definition on line 1");
}

TEST(HandlerScan, NfkcNamesBindAsciiAttributes) {
  const ModuleScan result =
      scan("def \xEF\xBD\x8D\xEF\xBD\x8F\xEF\xBD\x84\xEF\xBD\x85\xEF\xBD\x8C_fn(d): pass\n");
  EXPECT_EQ(binding(result, "model_fn").params, 1);
}

TEST(HandlerScan, ClassObjectsUseTheirConstructor) {
  const ModuleScan result = scan(
      "class model_fn:\n    def __init__(self, model_dir, context=None): pass\n"
      "class input_fn(Base):\n    def __init__(self, a, b): pass\n");
  EXPECT_EQ(binding(result, "model_fn").kind, BindingKind::class_object);
  EXPECT_EQ(binding(result, "model_fn").params, 2);
  EXPECT_EQ(binding(result, "model_fn").is_callable(), true);
  EXPECT_FALSE(binding(result, "input_fn").signature_known);
}

TEST(HandlerScan, OversizedInputIsALimitProblem) {
  HandlerScanLimits limits;
  limits.max_source_bytes = 10;
  const ModuleScan result = scan("def model_fn(model_dir): pass\n", {}, limits);
  ASSERT_EQ(result.problems.size(), 1u);
  EXPECT_EQ(result.problems[0].kind, ScanProblem::Kind::limit_exceeded);
  EXPECT_TRUE(result.bindings.empty());
}

TEST(HandlerScan, UnpackingIntoCallTargetsTerminates) {
  // Found by fuzzing: a bracketed target that is not one bracket pair recursed forever.
  const ModuleScan result = scan("a, (b)(c) = f()\nfor (x)[0], [y] in z: pass\n");
  EXPECT_NE(result.find("a"), nullptr);
  EXPECT_NE(result.find("y"), nullptr);
  EXPECT_EQ(result.find("b"), nullptr);
}

TEST(HandlerScan, CollectsEveryModuleLevelName) {
  const ModuleScan result = scan("import os\nfrom x import y as z\nclass C: pass\nN = 1\n");
  for (const char* name : {"os", "z", "C", "N"}) EXPECT_NE(result.find(name), nullptr) << name;
}

}  // namespace
}  // namespace smpack
