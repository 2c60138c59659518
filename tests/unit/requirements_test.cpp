#include "python/requirements.h"

#include <gtest/gtest.h>

#include <string>

namespace smpack {
namespace {

using Kind = RequirementsProblem::Kind;

RequirementsFile parse(std::string_view text,
                       std::map<std::string, std::string, std::less<>> env = {}) {
  RequirementsParseOptions options;
  options.env = std::move(env);
  return parse_requirements(text, options);
}

// The single requirement of a one-line file that must parse cleanly.
Requirement only_requirement(std::string_view text) {
  auto file = parse(text);
  EXPECT_TRUE(file.problems.empty()) << text << ": " << file.problems.front().message;
  EXPECT_EQ(file.requirements.size(), 1u) << text;
  return file.requirements.empty() ? Requirement{} : file.requirements.front();
}

// The first problem of a one-line file pip refuses.
RequirementsProblem only_problem(std::string_view text) {
  auto file = parse(text);
  EXPECT_EQ(file.problems.size(), 1u) << text;
  EXPECT_TRUE(file.requirements.empty()) << text;
  return file.problems.empty() ? RequirementsProblem{} : file.problems.front();
}

TEST(RequirementsParser, NamedRequirementWithExtrasSpecifiersAndMarker) {
  auto req = only_requirement("Foo.Bar_baz[Security, socks] >=1.0,<2.0; python_version < \"3.12\"");
  EXPECT_EQ(req.name, "Foo.Bar_baz");
  EXPECT_EQ(req.normalized_name, "foo-bar-baz");
  EXPECT_EQ(req.extras, (std::vector<std::string>{"Security", "socks"}));
  ASSERT_EQ(req.specifiers.size(), 2u);
  EXPECT_EQ(req.marker, "python_version < \"3.12\"");
}

TEST(RequirementsParser, SpecifierOperatorsAndWildcards) {
  auto req = only_requirement(
      "pkg ==1.4.*, !=1.4.2, ~=1.4, <=2, >=1.0rc1, >v0.9.post1, <3!5.dev2, ===weird-1");
  ASSERT_EQ(req.specifiers.size(), 8u);
  EXPECT_EQ(req.specifiers[0].op, "==");
  EXPECT_TRUE(req.specifiers[0].wildcard);
  EXPECT_EQ(req.specifiers[0].version, "1.4");
  EXPECT_EQ(req.specifiers[2].op, "~=");
  EXPECT_EQ(req.specifiers[7].op, "===");
  EXPECT_EQ(req.specifiers[7].version, "weird-1");
}

TEST(RequirementsParser, ParenthesisedSpecifiersAndLocalVersionOnEquals) {
  auto req = only_requirement("torch (==2.1.0+cu121)");
  ASSERT_EQ(req.specifiers.size(), 1u);
  EXPECT_EQ(req.specifiers[0].version, "2.1.0+cu121");
}

TEST(RequirementsParser, RefusesWhatPackagingRefuses) {
  EXPECT_NE(only_problem("pkg>=1.0.*").message.find(".* suffix"), std::string::npos);
  EXPECT_NE(only_problem("pkg>=1.0+local").message.find("Local version label"), std::string::npos);
  EXPECT_NE(only_problem("pkg~=1").message.find("Expected end or semicolon"), std::string::npos);
  EXPECT_NE(only_problem("pkg=1.0").message.find("Did you mean =="), std::string::npos);
  EXPECT_NE(only_problem("pkg[a b]").message.find("comma between extra names"), std::string::npos);
  EXPECT_NE(only_problem("pkg (>=1").message.find("RIGHT_PARENTHESIS"), std::string::npos);
  EXPECT_NE(only_problem("-pkg").message.find("no such option"), std::string::npos);
  EXPECT_NE(only_problem("pkg-").message.find("Expected end or semicolon"), std::string::npos);
}

TEST(RequirementsParser, ProblemColumnPointsAtTheOffendingText) {
  auto problem = only_problem("numpy>=1.0 foo");
  EXPECT_EQ(problem.line, 1);
  EXPECT_EQ(problem.column, 12);  // "foo"
}

TEST(RequirementsParser, MarkersFollowTheGrammar) {
  only_requirement(
      "a; python_version >= '3.8' and (os_name == \"posix\" or sys.platform != 'win32')");
  only_requirement("a; 'linux' in sys_platform");
  only_requirement("a; platform_machine not in 'x86_64 aarch64'");
  only_requirement("a; extra == \"gpu\"");
  EXPECT_NE(only_problem("a; python_version >= 3.8").message.find("Invalid marker"),
            std::string::npos);
  EXPECT_NE(only_problem("a; pyversion == '3'").message.find("Invalid marker"), std::string::npos);
  EXPECT_NE(only_problem("a; os_name notin 'x'").message.find("Invalid marker"), std::string::npos);
  EXPECT_NE(only_problem("a; (os_name == 'x'").message.find("RIGHT_PARENTHESIS"),
            std::string::npos);
  EXPECT_NE(only_problem("a; os_name == 'x' xor os_name == 'y'").message.find("end of marker"),
            std::string::npos);
}

TEST(RequirementsParser, DeepMarkerNestingIsAProblemNotACrash) {
  std::string text = "a; " + std::string(10000, '(') + "os_name == 'x'" + std::string(10000, ')');
  auto problem = only_problem(text);
  EXPECT_NE(problem.message.find("too deeply"), std::string::npos);
}

TEST(RequirementsParser, EmptyMarkerAfterSemicolonIsAllowed) {
  EXPECT_EQ(only_requirement("a ;  ").marker, "");
}

TEST(RequirementsParser, NameAtUrl) {
  auto req = only_requirement(
      "mylib[x] @ https://example.com/mylib-1.0-py3-none-any.whl ; os_name == 'posix'");
  EXPECT_EQ(req.form, RequirementForm::named);
  EXPECT_EQ(req.name, "mylib");
  EXPECT_EQ(req.location, "https://example.com/mylib-1.0-py3-none-any.whl");
  EXPECT_EQ(req.marker, "os_name == 'posix'");
}

TEST(RequirementsParser, BareUrlsTakeTheirNameFromEggOrWheel) {
  auto vcs =
      only_requirement("git+https://github.com/org/repo.git@v1#egg=Repo_Name&subdirectory=py");
  EXPECT_EQ(vcs.form, RequirementForm::url);
  EXPECT_EQ(vcs.normalized_name, "repo-name");
  auto wheel = only_requirement("https://host/dist/My_Pkg-2.0-1-cp311-cp311-linux_x86_64.whl");
  EXPECT_EQ(wheel.name, "My_Pkg");
  auto unnamed = only_requirement("https://host/archive.tar.gz");
  EXPECT_EQ(unnamed.name, "");
  EXPECT_NE(only_problem("https://host/not-a-wheel.whl").message.find("not a valid wheel"),
            std::string::npos);
}

TEST(RequirementsParser, UrlMarkersNeedSemicolonAndSpace) {
  auto req = only_requirement("https://host/a.zip; python_version > '3'");
  EXPECT_EQ(req.marker, "python_version > '3'");
  auto glued = only_requirement("https://host/a.zip;python_version>'3'");
  EXPECT_EQ(glued.marker, "");
  EXPECT_EQ(glued.location, "https://host/a.zip;python_version>'3'");
}

TEST(RequirementsParser, LocalPaths) {
  auto dir = only_requirement("./lib/mypkg[extra1]");
  EXPECT_EQ(dir.form, RequirementForm::local_path);
  EXPECT_EQ(dir.location, "./lib/mypkg");
  EXPECT_EQ(dir.extras, std::vector<std::string>{"extra1"});
  auto wheel = only_requirement("/opt/ml/model/code/lib/dep-0.1-py3-none-any.whl");
  EXPECT_EQ(wheel.form, RequirementForm::local_path);
  EXPECT_EQ(wheel.name, "dep");
  EXPECT_EQ(only_requirement("dep.tar.gz").form, RequirementForm::local_path);
  EXPECT_EQ(only_requirement("file:///opt/ml/model/code/dep").form, RequirementForm::url);
}

TEST(RequirementsParser, EditableRequirements) {
  auto local = only_requirement("-e ./src/mypkg");
  EXPECT_TRUE(local.editable);
  EXPECT_EQ(local.form, RequirementForm::local_path);
  EXPECT_EQ(local.location, "./src/mypkg");
  auto vcs = only_requirement("--editable=git+https://h/r.git#egg=r");
  EXPECT_EQ(vcs.form, RequirementForm::url);
  EXPECT_EQ(vcs.name, "r");
  EXPECT_NE(only_problem("-e git+https://h/r.git").message.find("#egg="), std::string::npos);
  EXPECT_NE(only_problem("-e https://h/r.zip").message.find("not a valid editable"),
            std::string::npos);
}

TEST(RequirementsParser, IncludesAndGlobalOptions) {
  auto file = parse(
      "-r base.txt\n"
      "--constraint=constraints.txt\n"
      "-i https://pypi.example/simple\n"
      "--extra-index-url https://x/simple --trusted-host x\n"
      "--find-links=./wheels\n"
      "--no-index\n"
      "--pre\n"
      "--only-binary :all:\n"
      "--prefer-binary\n"
      "--require-hashes\n");
  EXPECT_TRUE(file.problems.empty());
  ASSERT_EQ(file.includes.size(), 2u);
  EXPECT_EQ(file.includes[0].kind, IncludeKind::requirements);
  EXPECT_EQ(file.includes[0].path, "base.txt");
  EXPECT_EQ(file.includes[1].kind, IncludeKind::constraints);
  EXPECT_EQ(file.includes[1].line, 2);
  std::vector<std::string> names;
  for (const auto& option : file.options) names.push_back(option.name);
  EXPECT_EQ(names, (std::vector<std::string>{"--index-url", "--extra-index-url", "--trusted-host",
                                             "--find-links", "--no-index", "--pre", "--only-binary",
                                             "--prefer-binary", "--require-hashes"}));
  EXPECT_EQ(file.options[0].value, "https://pypi.example/simple");
}

TEST(RequirementsParser, OptionsFollowOptparse) {
  EXPECT_EQ(parse("--index https://x/simple").options.at(0).name, "--index-url");  // abbreviation
  EXPECT_EQ(parse("-rbase.txt").includes.at(0).path, "base.txt");
  EXPECT_NE(
      only_problem("--no x").message.find("ambiguous option: --no (--no-binary, --no-index?)"),
      std::string::npos);
  EXPECT_NE(only_problem("--frobnicate").message.find("no such option: --frobnicate"),
            std::string::npos);
  EXPECT_NE(only_problem("-r").message.find("-r option requires 1 argument"), std::string::npos);
  EXPECT_NE(only_problem("--pre=yes").message.find("does not take a value"), std::string::npos);
  EXPECT_NE(only_problem("-r 'unterminated").message.find("Could not split options"),
            std::string::npos);
  EXPECT_EQ(parse("-r 'my reqs.txt'").includes.at(0).path, "my reqs.txt");
}

TEST(RequirementsParser, HashOptionsBelongToTheirRequirement) {
  auto req = only_requirement("requests==2.31.0 --hash=sha256:aaaa --hash sha512:bbbb");
  EXPECT_EQ(req.hashes, (std::vector<std::string>{"sha256:aaaa", "sha512:bbbb"}));
  EXPECT_NE(only_problem("a==1 --hash=md5:00").message.find("Allowed hash algorithms"),
            std::string::npos);
  EXPECT_NE(only_problem("a==1 --hash=abc").message.find("hash name followed by a value"),
            std::string::npos);
}

TEST(RequirementsParser, IgnoredOptionsAreReportedAsIgnored) {
  auto file = parse("requests --index-url https://x/simple\n--hash=sha256:aa\n");
  ASSERT_EQ(file.requirements.size(), 1u);
  ASSERT_EQ(file.problems.size(), 2u);
  EXPECT_EQ(file.problems[0].kind, Kind::ignored);
  EXPECT_EQ(file.problems[0].line, 1);
  EXPECT_EQ(file.problems[1].kind, Kind::ignored);
  EXPECT_EQ(file.problems[1].line, 2);
}

TEST(RequirementsParser, CommentsAndContinuationsLikePip) {
  auto file = parse(
      "# a comment \\\n"                     // a comment line never continues
      "numpy \\\n"                           // line 2 continues
      "  >=1.20 # trailing\n"                // joined into line 2
      "url-pkg@https://h/x.whl#sha256=00\n"  // "#" without whitespace before is not a comment
      "\n"
      "   # indented comment\n"
      "scipy\\\n"
      "# a comment ends the continuation\n"
      "pandas\n");
  EXPECT_TRUE(file.problems.empty()) << file.problems.front().message;
  ASSERT_EQ(file.requirements.size(), 4u);
  EXPECT_EQ(file.requirements[0].line, 2);
  EXPECT_EQ(file.requirements[0].specifiers.at(0).version, "1.20");
  EXPECT_EQ(file.requirements[1].location, "https://h/x.whl#sha256=00");
  EXPECT_EQ(file.requirements[2].name, "scipy");
  EXPECT_EQ(file.requirements[2].line, 7);
  EXPECT_EQ(file.requirements[3].line, 9);
}

TEST(RequirementsParser, CommentInsideAContinuationSwallowsTheNextLine) {
  // pip strips comments after joining, so the comment eats "b" too.
  auto file = parse("a # note \\\nb\nc\n");
  ASSERT_EQ(file.requirements.size(), 2u);
  EXPECT_EQ(file.requirements[0].name, "a");
  EXPECT_EQ(file.requirements[1].name, "c");
  EXPECT_EQ(file.requirements[1].line, 3);
}

TEST(RequirementsParser, AllPythonLineBreaksCountAsLines) {
  auto file = parse(
      "\xEF\xBB\xBF"
      "a\r\nb\rc\x0c"
      "d\xE2\x80\xA8"
      "e\n");
  ASSERT_EQ(file.requirements.size(), 5u);
  EXPECT_EQ(file.requirements[0].name, "a");  // BOM dropped
  EXPECT_EQ(file.requirements[4].line, 5);
}

TEST(RequirementsParser, EnvironmentVariablesExpandOnlyWhenSet) {
  auto file = parse("--index-url https://${USER_X}:${TOKEN}@host/simple\nmypkg==${VERSION}\n",
                    {{"TOKEN", "s3cret"}, {"VERSION", "1.2"}});
  ASSERT_EQ(file.options.size(), 1u);
  EXPECT_EQ(file.options[0].value, "https://${USER_X}:s3cret@host/simple");
  ASSERT_EQ(file.env_references.size(), 3u);
  EXPECT_FALSE(file.env_references[0].resolved);
  EXPECT_TRUE(file.env_references[1].resolved);
  ASSERT_EQ(file.requirements.size(), 1u);
  EXPECT_EQ(file.requirements[0].specifiers.at(0).version, "1.2");
  // Lower-case names are not variables to pip.
  EXPECT_TRUE(parse("${lower}").env_references.empty());
}

TEST(RequirementsParser, LeftoverArgumentsAfterOptionsAreIgnored) {
  auto file = parse("-r a.txt b.txt");
  ASSERT_EQ(file.includes.size(), 1u);
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0].kind, Kind::ignored);
  EXPECT_NE(file.problems[0].message.find("b.txt"), std::string::npos);
}

TEST(RequirementsParser, OversizedInputIsOneProblem) {
  RequirementsParseOptions options;
  options.limits.max_bytes = 10;
  auto file = parse_requirements("numpy\nscipy\npandas\n", options);
  EXPECT_TRUE(file.requirements.empty());
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_NE(file.problems[0].message.find("more than the 10"), std::string::npos);
}

TEST(RequirementsParser, LogicalLineCapStopsReading) {
  RequirementsParseOptions options;
  options.limits.max_logical_lines = 2;
  auto file = parse_requirements("a\nb\nc\nd\n", options);
  EXPECT_EQ(file.requirements.size(), 2u);
  ASSERT_EQ(file.problems.size(), 1u);
  EXPECT_EQ(file.problems[0].line, 3);
}

TEST(ProjectNames, Pep503Normalisation) {
  EXPECT_EQ(normalize_project_name("Friendly-Bard"), "friendly-bard");
  EXPECT_EQ(normalize_project_name("FRIENDLY._-bard"), "friendly-bard");
  EXPECT_EQ(normalize_project_name("scikit_learn"), "scikit-learn");
}

TEST(Pep440, ParsesAndOrdersVersions) {
  auto v = [](std::string_view s) {
    auto parsed = parse_pep440_version(s);
    EXPECT_TRUE(parsed.has_value()) << s;
    return parsed.value_or(Pep440Version{});
  };
  const char* ordered[] = {"1.0.dev0",  "1.0a1",          "1.0a2.dev1", "1.0b1", "1.0rc1", "1.0",
                           "1.0+local", "1.0.post1.dev0", "1.0.post1",  "1.1",   "1!0.1"};
  for (std::size_t i = 0; i + 1 < std::size(ordered); ++i) {
    EXPECT_LT(compare_versions(v(ordered[i]), v(ordered[i + 1])), 0)
        << ordered[i] << " < " << ordered[i + 1];
  }
  EXPECT_EQ(compare_versions(v("1.0"), v("1.0.0")), 0);
  EXPECT_EQ(compare_versions(v("v1.0-1"), v("1.0.post1")), 0);
  EXPECT_EQ(compare_versions(v("1.0ALPHA"), v("1.0a0")), 0);
  EXPECT_EQ(compare_versions(v("01.002"), v("1.2")), 0);
  EXPECT_LT(compare_versions(v("99999999999999999999999.1"), v("100000000000000000000000")), 0);
  EXPECT_FALSE(parse_pep440_version("1.0.").has_value());
  EXPECT_FALSE(parse_pep440_version("banana").has_value());
}

TEST(Pep440, SpecifierMembership) {
  auto allows = [](std::string_view op, std::string_view spec, std::string_view version,
                   bool wildcard = false) {
    VersionSpecifier s{std::string(op), std::string(spec), wildcard};
    return specifier_allows(s, *parse_pep440_version(version)).value();
  };
  EXPECT_TRUE(allows("==", "1.4", "1.4.0"));
  EXPECT_TRUE(allows("==", "1.4", "1.4+cu121"));
  EXPECT_FALSE(allows("==", "1.4+cpu", "1.4+cu121"));
  EXPECT_TRUE(allows("==", "1.4", "1.4.7", true));
  EXPECT_FALSE(allows("==", "1.4", "1.5", true));
  EXPECT_TRUE(allows("!=", "1.4", "1.5", true));
  EXPECT_TRUE(allows("~=", "2.2", "2.9"));
  EXPECT_FALSE(allows("~=", "2.2", "3.0"));
  EXPECT_FALSE(allows("~=", "1.4.5", "1.5.0"));
  EXPECT_TRUE(allows("<", "2.0", "1.9"));
  EXPECT_FALSE(allows("<", "2.0", "2.0rc1"));  // a pre-release of the excluded version
  EXPECT_TRUE(allows("<", "2.0rc2", "2.0rc1"));
  EXPECT_FALSE(allows(">", "1.7", "1.7.post1"));
  EXPECT_TRUE(allows(">", "1.7.post1", "1.7.post2"));
  EXPECT_TRUE(allows(">=", "2", "2.0"));
  EXPECT_TRUE(allows("<=", "2", "2.0"));
  EXPECT_FALSE(allows(">=", "2.1", "2.0.9"));
}

}  // namespace
}  // namespace smpack
