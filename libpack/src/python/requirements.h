// A parser for pip's requirements-file format, as `pip install -r` (pip 23.1 to 25.2) reads it,
// so that a requirements.txt can be judged before a container runs it.
//
// Grammar (pip/_internal/req/req_file.py, packaging's PEP 508 parser):
//   file          = physical lines (any Python str.splitlines() break; a UTF-8 BOM is dropped)
//   continuation  = a line ending in "\" is joined with the next, unless the line is a
//                   comment ("#" at the start or after whitespace); pip strips every "\" at
//                   either end of the joined pieces
//   comment       = "#" at the start of a logical line or after whitespace, to the end of
//                   the joined line
//   ${NAME}       = NAME in [A-Z0-9_]+; replaced when the environment gives a non-empty
//                   value, else left as written
//   logical line  = ARGS OPTIONS, split at the first space-separated token starting with
//                   "-"; OPTIONS are shell-split (POSIX shlex) and read as optparse does
//                   (long options may be abbreviated to a unique prefix)
//   ARGS          = a PEP 508 requirement (name, [extras], specifiers, "@ url",
//                   "; marker"), or a URL (http, https, file, ftp, VCS schemes) or a local
//                   path (contains "/", starts with ".", or ends in an archive extension),
//                   each with an optional "; marker" (URLs need "; " with the space)
//   options       = -r/--requirement F, -c/--constraint F, -e/--editable X,
//                   -i/--index-url U, --extra-index-url U, -f/--find-links U, --no-index,
//                   --pre, --trusted-host H, --no-binary L, --only-binary L,
//                   --prefer-binary, --require-hashes, --use-feature F; on requirement
//                   lines: --hash ALG:HEX, --global-option O (deprecated; gone in
//                   pip 25.3), --config-settings K=V (--install-option: gone in pip 23.1)
//
// Failure: parsing never fails as a call and never throws. Every line pip would refuse is
// a RequirementsProblem (1-based line of the first physical line, 1-based column in the
// logical line); text pip silently ignores is a problem of kind `ignored`. Parsing is
// linear in the input; RequirementsParseLimits bound the input size and the result size.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smpack {

// One clause of a version specifier: "==1.4.*", ">=2", "~=1.2", "===foo".
struct VersionSpecifier {
  std::string op;         // one of ===, ==, !=, ~=, <=, >=, <, >
  std::string version;    // as written, without the ".*" of a wildcard
  bool wildcard = false;  // "==1.4.*" / "!=1.4.*"
};

enum class RequirementForm {
  named,       // a PEP 508 requirement resolved through the index: "torch>=2", "x @ https://..."
  url,         // a bare URL: "https://host/x.whl", "git+https://host/repo#egg=x"
  local_path,  // a bare local path: "./pkg", "/opt/ml/model/code/lib/x.whl", "file:x"
};

struct Requirement {
  int line = 0;                 // first physical line of the logical line
  std::string text;             // the requirement part of the line, after ${VAR} expansion
  std::string name;             // as written; from #egg= or a wheel's file name for URLs/paths;
                                // "" when pip could not tell before downloading
  std::string normalized_name;  // PEP 503: lower case, runs of -_. become "-"
  std::vector<std::string> extras;
  std::vector<VersionSpecifier> specifiers;
  std::string marker;  // the environment marker after ";", trimmed; "" when none
  RequirementForm form = RequirementForm::named;
  std::string location;     // the URL (named "x @ url" and url forms) or the path (local_path)
  bool editable = false;    // -e
  bool constraint = false;  // from a -c file (set by callers that merge includes)
  std::vector<std::string> hashes;  // "sha256:..." from --hash
};

enum class IncludeKind { requirements, constraints };  // -r, -c

struct RequirementsInclude {
  int line = 0;
  IncludeKind kind = IncludeKind::requirements;
  std::string path;  // as written (pip resolves it relative to the including file)
};

// A line of global options: --index-url, --find-links, --no-index, --pre, ...
struct RequirementsOption {
  int line = 0;
  std::string name;   // the canonical long form, e.g. "--index-url"
  std::string value;  // "" for flags
};

struct EnvReference {
  int line = 0;
  std::string name;       // NAME of ${NAME}
  bool resolved = false;  // a non-empty value was given
};

struct RequirementsProblem {
  enum class Kind {
    invalid,     // pip stops with an error on this line
    ignored,     // pip accepts the line but silently ignores this part of it
    deprecated,  // pip accepts it with a warning; a newer pip refuses it
  };
  int line = 0;
  int column = 0;  // 1-based, in the logical line; 0 when it concerns the whole line
  std::string message;
  Kind kind = Kind::invalid;
};

struct RequirementsFile {
  std::vector<Requirement> requirements;
  std::vector<RequirementsInclude> includes;
  std::vector<RequirementsOption> options;
  std::vector<EnvReference> env_references;
  std::vector<RequirementsProblem> problems;
};

struct RequirementsParseLimits {
  std::size_t max_bytes = 8u << 20;         // larger input: one problem, nothing parsed
  std::size_t max_logical_lines = 100'000;  // past it: one problem, the rest not parsed
  int max_marker_nesting = 64;              // parentheses in one marker
};

struct RequirementsParseOptions {
  // The environment the installing pip would see, for ${NAME} expansion.
  std::map<std::string, std::string, std::less<>> env;
  RequirementsParseLimits limits;
};

// Parses the text of one requirements file (it does not follow -r/-c: the caller resolves
// includes against wherever the file lives).
RequirementsFile parse_requirements(std::string_view text,
                                    const RequirementsParseOptions& options = {});

// PEP 503 name normalisation: "Foo.Bar_baz" -> "foo-bar-baz".
std::string normalize_project_name(std::string_view name);

// A PEP 440 version, parsed for comparison. Numbers are kept as digit strings without
// leading zeros, so arbitrarily long ones compare correctly without overflow.
struct Pep440Version {
  std::string epoch = "0";
  std::vector<std::string> release;                        // "1.02.0" -> {"1","2","0"}
  std::optional<std::pair<std::string, std::string>> pre;  // {"a"|"b"|"rc", number}
  std::optional<std::string> post;
  std::optional<std::string> dev;
  std::string local;  // lower case, "" when none
};

// nullopt when `text` is not a valid PEP 440 version.
std::optional<Pep440Version> parse_pep440_version(std::string_view text);

// <0, 0, >0 as PEP 440 orders versions (local labels compared as strings).
int compare_versions(const Pep440Version& a, const Pep440Version& b);

// Whether `version` satisfies `spec` (PEP 440, pre-releases admitted). nullopt when the
// specifier's own version cannot be parsed.
std::optional<bool> specifier_allows(const VersionSpecifier& spec, const Pep440Version& version);

}  // namespace smpack
