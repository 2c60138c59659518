// requirements.txt rules: the container runs `pip install -r /opt/ml/model/code/requirements.txt`
// once at start (sagemaker_inference/model_server.py); a failure stops the container.
#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "lint/lint_rules.h"
#include "python/requirements.h"
#include "smpack/utf8.h"

namespace smpack::lint_internal {
namespace {

constexpr std::string_view kInstalledRequirements = "code/requirements.txt";
constexpr std::string_view kModelDir = "/opt/ml/model/";
constexpr int kMaxIncludeDepth = 16;

struct SourcedRequirement {
  std::string file;
  Requirement requirement;
};

// Joins a path written in a requirements file to the directory of that file and resolves
// "." and ".."; nullopt when it leaves the model.
std::optional<std::string> resolve_in_model(std::string_view base_dir, std::string_view written) {
  std::string joined;
  if (written.starts_with(kModelDir)) {
    joined = std::string(written.substr(kModelDir.size()));
  } else if (written.starts_with('/')) {
    return std::nullopt;
  } else {
    joined = base_dir.empty() ? std::string(written)
                              : std::string(base_dir) + "/" + std::string(written);
  }
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= joined.size()) {
    auto end = joined.find('/', start);
    if (end == std::string::npos) end = joined.size();
    std::string part = joined.substr(start, end - start);
    if (part == "..") {
      if (parts.empty()) return std::nullopt;
      parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    start = end + 1;
  }
  std::string out;
  for (const auto& part : parts) out += (out.empty() ? "" : "/") + part;
  return out;
}

std::string_view directory_of(std::string_view path) {
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? std::string_view() : path.substr(0, slash);
}

bool exists_in(const ModelTree& tree, std::string_view path) {
  if (path.empty()) return true;
  if (tree.find(path)) return true;
  const std::string prefix = std::string(path) + "/";
  return std::any_of(tree.members.begin(), tree.members.end(),
                     [&](const Member& m) { return m.path.starts_with(prefix); });
}

bool has_scheme(std::string_view location) {
  auto colon = location.find(':');
  return colon != std::string_view::npos && colon > 1 &&
         location.substr(0, colon).find('/') == std::string_view::npos;
}

// The local path a requirement installs from, or nullopt when it comes from an index or URL.
std::optional<std::string> local_path_of(const Requirement& req) {
  if (req.location.empty()) return std::nullopt;
  std::string_view location = req.location;
  if (location.starts_with("file:")) {
    location.remove_prefix(5);
    if (location.starts_with("//")) location.remove_prefix(2);
    return std::string(location.substr(0, location.find_first_of("#?")));
  }
  if (req.form == RequirementForm::local_path || !has_scheme(location)) {
    return std::string(location);
  }
  return std::nullopt;
}

// pip's own idea of a pin (req_install.py, is_pinned): exactly one specifier, == or ===.
bool is_pinned(const Requirement& req) {
  return req.specifiers.size() == 1 &&
         (req.specifiers.front().op == "==" || req.specifiers.front().op == "===");
}

// A --hash, or a hash in the URL's fragment (#sha256=...), which pip counts as one.
bool has_hash(const Requirement& req) {
  if (!req.hashes.empty()) return true;
  const auto fragment = req.location.find('#');
  if (fragment == std::string::npos) return false;
  for (std::string_view name : {"sha1=", "sha224=", "sha256=", "sha384=", "sha512=", "md5="}) {
    const auto at = req.location.find(name, fragment);
    if (at != std::string::npos && (req.location[at - 1] == '#' || req.location[at - 1] == '&'))
      return true;
  }
  return false;
}

bool is_vcs(std::string_view location) {
  for (std::string_view scheme : {"git+", "hg+", "svn+", "bzr+"}) {
    if (location.starts_with(scheme)) return true;
  }
  return false;
}

bool is_exact_pin(const VersionSpecifier& spec) {
  return spec.op == "===" || (spec.op == "==" && !spec.wildcard);
}

std::string describe_specifiers(const Requirement& req) {
  std::string out;
  for (const auto& spec : req.specifiers) {
    out += (out.empty() ? "" : ",") + spec.op + spec.version + (spec.wildcard ? ".*" : "");
  }
  return out;
}

std::set<std::string> framework_packages(Profile profile) {
  switch (profile) {
    case Profile::pytorch:
      return {"torch"};
    case Profile::huggingface:
      return {"transformers", "torch"};
    case Profile::tensorflow:
      return {"tensorflow", "tensorflow-cpu", "tensorflow-gpu"};
    case Profile::sklearn:
      return {"scikit-learn"};
    case Profile::xgboost:
      return {"xgboost"};
    case Profile::djl_lmi:
    case Profile::tgi:
    case Profile::tei:
    case Profile::generic:
      return {};
  }
  return {};
}

// The 1-based line and the hex of the first byte that is not UTF-8, if any.
std::optional<std::pair<int, std::string>> invalid_utf8_at(std::string_view text) {
  const std::size_t at = first_invalid_utf8(text);
  if (at == std::string_view::npos) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(text[at]);
  const auto line = 1 + static_cast<int>(std::count(text.begin(), text.begin() + at, '\n'));
  return std::pair{line, std::string("0x") + kHex[byte >> 4] + kHex[byte & 15]};
}

// The encoding a "coding: X" (or "coding=X") comment in the first two lines declares,
// lower case with "_" as "-", which pip honours (utils/encoding.py, auto_decode: the
// regex coding[:=]\s*([-\w.]+) on lines starting with "#"); "" when none.
std::string declared_encoding(std::string_view text) {
  for (int line = 0; line < 2 && !text.empty(); ++line) {
    const auto end = text.find('\n');
    const std::string_view current = text.substr(0, end);
    text = end == std::string_view::npos ? std::string_view() : text.substr(end + 1);
    if (!current.starts_with('#')) continue;
    for (auto at = current.find("coding"); at != std::string_view::npos;
         at = current.find("coding", at + 1)) {
      std::size_t i = at + 6;
      if (i >= current.size() || (current[i] != ':' && current[i] != '=')) continue;
      ++i;
      while (i < current.size() && std::isspace(static_cast<unsigned char>(current[i]))) ++i;
      std::string name;
      for (; i < current.size(); ++i) {
        const char c = current[i];
        if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') break;
        name += c == '_' ? '-' : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      }
      if (!name.empty()) return name;
    }
  }
  return {};
}

// The first byte that is not ASCII, as invalid_utf8_at reports it.
std::optional<std::pair<int, std::string>> non_ascii_at(std::string_view text) {
  const auto at = std::find_if(text.begin(), text.end(),
                               [](char c) { return static_cast<unsigned char>(c) >= 0x80; });
  if (at == text.end()) return std::nullopt;
  static constexpr char kHex[] = "0123456789abcdef";
  const auto byte = static_cast<unsigned char>(*at);
  return std::pair{1 + static_cast<int>(std::count(text.begin(), at, '\n')),
                   std::string("0x") + kHex[byte >> 4] + kHex[byte & 15]};
}

// pip also reads UTF-16 and UTF-32 files that start with their byte-order mark.
bool has_wide_byte_order_mark(std::string_view text) {
  return text.starts_with("\xff\xfe") || text.starts_with("\xfe\xff") ||
         text.starts_with(std::string_view("\0\0\xfe\xff", 4));
}

// A directory pip cannot install: no setup.py and no pyproject.toml in it.
bool is_uninstallable_directory(const ModelTree& tree, const std::string& path) {
  const Member* member = tree.find(path);
  if (member && member->type != EntryType::directory) return false;
  const auto is_file = [&](const std::string& name) {
    const Member* m = tree.find(path + "/" + name);
    return m && m->type == EntryType::file;
  };
  return !is_file("setup.py") && !is_file("pyproject.toml");
}

class RequirementsLinter {
 public:
  explicit RequirementsLinter(LintContext& context) : context_(context) {}

  void run() {
    const std::string* text = context_.tree.content(kInstalledRequirements);
    if (!text) return;
    read_file(std::string(kInstalledRequirements), *text, IncludeKind::requirements, 0);
    check_hash_mode();
    check_local_paths();
    check_duplicates_and_conflicts();
    check_framework();
    check_unpinned();
    check_network();
  }

 private:
  void read_file(const std::string& path, const std::string& text, IncludeKind kind, int depth) {
    if (!visited_.insert(path).second) return;
    if (has_wide_byte_order_mark(text)) {
      context_.report(rule("req-include-not-read"), path, 1, 0,
                      "it is UTF-16 or UTF-32 (a byte-order mark), which pip reads; its lines "
                      "are not checked");
      return;
    }
    const std::string declared = declared_encoding(text);
    static const std::set<std::string> kUtf8 = {"", "utf-8", "utf8"};
    static const std::set<std::string> kAscii = {"ascii", "us-ascii", "646"};
    // Every byte is a character in these, as our parser reads the bytes.
    static const std::set<std::string> kSingleByte = {"latin-1",   "latin1",      "iso-8859-1",
                                                      "iso8859-1", "l1",          "iso-8859-15",
                                                      "cp1252",    "windows-1252"};
    if (kUtf8.count(declared) || kAscii.count(declared)) {
      const bool ascii = kAscii.count(declared) > 0;
      if (auto bad = ascii ? non_ascii_at(text) : invalid_utf8_at(text)) {
        context_.report(
            rule("req-bad-encoding"), path, bad->first, 0,
            "byte " + bad->second + " is not " + (ascii ? "ASCII" : "UTF-8") +
                (declared.empty() ? ": pip decodes a file without a byte-order mark or coding "
                                    "comment with the locale's encoding, UTF-8 in the containers,"
                                  : ", which its coding comment declares:") +
                " and stops with UnicodeDecodeError");
        return;
      }
    } else if (!kSingleByte.count(declared)) {
      context_.report(rule("req-include-not-read"), path, 1, 0,
                      "it declares the encoding '" + declared +
                          "', which pip honours and smpack does not read; its lines are not "
                          "checked");
      return;
    }
    RequirementsParseOptions parse_options;
    parse_options.env = context_.options.env;
    auto file = parse_requirements(text, parse_options);
    for (const auto& problem : file.problems) {
      switch (problem.kind) {
        case RequirementsProblem::Kind::invalid:
          context_.report(rule("req-invalid-line"), path, problem.line, problem.column,
                          problem.message +
                              "; pip install fails at container start and the endpoint never "
                              "becomes healthy");
          break;
        case RequirementsProblem::Kind::ignored:
          context_.report(rule("req-ignored-option"), path, problem.line, problem.column,
                          problem.message);
          break;
        case RequirementsProblem::Kind::deprecated:
          context_.report(rule("req-deprecated-option"), path, problem.line, problem.column,
                          problem.message);
          break;
      }
    }
    for (const auto& reference : file.env_references) {
      if (reference.resolved) continue;
      context_.report(rule("req-env-var"), path, reference.line, 0,
                      "${" + reference.name +
                          "} is not in the environment given to lint; unless the "
                          "endpoint sets it, pip sees the literal text");
    }
    for (auto& option : file.options) {
      if (option.name == "--no-index") no_index_ = true;
      if (option.name == "--require-hashes" && !hash_mode_)
        hash_mode_ = path + ":" + std::to_string(option.line) + " (--require-hashes)";
    }
    for (auto& req : file.requirements) {
      req.constraint = kind == IncludeKind::constraints;
      // A hash anywhere turns the mode on, in a constraints file too (req_command.py).
      if (has_hash(req) && !hash_mode_)
        hash_mode_ = path + ":" + std::to_string(req.line) + " (--hash)";
      requirements_.push_back({path, std::move(req)});
    }
    including_.push_back(path);
    for (const auto& include : file.includes) {
      follow_include(path, include, depth);
    }
    including_.pop_back();
  }

  // pip's hash-checking mode, which one --hash (anywhere in the install) or
  // --require-hashes turns on: every requirement then needs a hash, and a named one an
  // == pin (req_install.py, resolution's `_check_hashes`).
  void check_hash_mode() {
    if (!hash_mode_) return;
    const auto shipped = framework_packages(context_.profile);
    for (const auto& [file, req] : requirements_) {
      if (req.constraint) continue;  // constraints need no hash
      std::string problem;
      if (req.editable) {
        problem = "is editable, which hash-checking mode refuses";
      } else if (is_vcs(req.location) || is_local_directory(req)) {
        problem = "is a directory or VCS checkout, whose hash pip cannot verify";
      } else {
        if (!has_hash(req)) problem = "has no --hash";
        if (req.form == RequirementForm::named && req.location.empty() && !is_pinned(req))
          problem += std::string(problem.empty() ? "" : " and ") + "is not pinned with ==";
        // pip takes what is installed already without a hash: the framework the
        // container ships usually is.
        if (req.location.empty() && shipped.count(req.normalized_name)) continue;
      }
      if (problem.empty()) continue;
      context_.report(rule("req-hash-missing"), file, req.line, 0,
                      "'" + req.text + "' " + problem + ", but " + *hash_mode_ +
                          " puts pip in hash-checking mode, where pip install then fails");
    }
  }

  void follow_include(const std::string& from, const RequirementsInclude& include, int depth) {
    if (has_scheme(include.path) && !include.path.starts_with("file:")) {
      needs_network_.push_back({from, include.line, "'" + include.path + "'"});
      return;
    }
    auto resolved = resolve_in_model(directory_of(from), include.path);
    const Member* member = resolved ? context_.tree.find(*resolved) : nullptr;
    if (!member || !is_regular_file(*member)) {
      context_.report(rule("req-include-missing"), from, include.line, 0,
                      "'" + include.path + "' is not in the model" +
                          (resolved ? " (looked for " + *resolved + ")" : std::string()) +
                          "; pip stops with: Could not open requirements file");
      return;
    }
    if (std::find(including_.begin(), including_.end(), *resolved) != including_.end()) {
      std::string chain;
      for (auto it = std::find(including_.begin(), including_.end(), *resolved);
           it != including_.end(); ++it)
        chain += *it + " -> ";
      context_.report(rule("req-include-cycle"), from, include.line, 0,
                      "-r '" + include.path + "' closes a cycle (" + chain + *resolved +
                          "): pip follows it until Python's recursion limit and stops with "
                          "RecursionError");
      return;
    }
    const std::string* text = context_.tree.content(*resolved);
    if (!text || depth >= kMaxIncludeDepth) {
      context_.report(rule("req-include-not-read"), from, include.line, 0,
                      "'" + *resolved +
                          "' was not read (too large or nested too deep); its "
                          "lines are not checked");
      return;
    }
    read_file(*resolved, *text, include.kind, depth + 1);
  }

  // A local path requirement naming a directory of the model (a member, or a folder
  // that only its files imply).
  bool is_local_directory(const Requirement& req) const {
    const auto local = local_path_of(req);
    if (!local) return false;
    // A relative path is pip's working directory's: code/ or the model root.
    for (std::string_view base : {"code", ""}) {
      const auto in_model = resolve_in_model(local->starts_with('/') ? "" : base, *local);
      if (!in_model || !exists_in(context_.tree, *in_model)) continue;
      const Member* member = context_.tree.find(*in_model);
      return !member || member->type == EntryType::directory;
    }
    return false;
  }

  void check_local_paths() {
    for (const auto& [file, req] : requirements_) {
      auto path = local_path_of(req);
      if (!path) continue;
      auto found = resolve_in_model("", *path);
      if (path->starts_with('/')) {
        if (!found || !exists_in(context_.tree, *found)) {
          context_.report(rule("req-local-path-missing"), file, req.line, 0,
                          "'" + *path + "' is not in the model (" +
                              (found ? "no member " + *found : "outside /opt/ml/model") +
                              "), so pip install fails at container start");
        } else {
          check_installable(file, req, *path, *found);
        }
        continue;
      }
      auto in_code = resolve_in_model("code", *path);
      const bool at_code = in_code && exists_in(context_.tree, *in_code);
      const bool at_root_dir = found && exists_in(context_.tree, *found);
      if (!at_code && !at_root_dir) {
        context_.report(rule("req-local-path-missing"), file, req.line, 0,
                        "'" + *path +
                            "' is in neither code/ nor the model root, so pip install "
                            "fails at container start");
      } else {
        context_.report(rule("req-relative-path"), file, req.line, 0,
                        "'" + *path +
                            "' is relative: pip resolves it against its working "
                            "directory, not code/; write /opt/ml/model/" +
                            (at_code ? *in_code : *found) + " instead");
        check_installable(file, req, *path, at_code ? *in_code : *found);
      }
    }
  }

  void check_installable(const std::string& file, const Requirement& req, const std::string& path,
                         const std::string& in_model) {
    if (!is_uninstallable_directory(context_.tree, in_model)) return;
    context_.report(rule("req-local-dir-not-installable"), file, req.line, 0,
                    "'" + path + "' (" + in_model +
                        ") is a directory with neither setup.py nor pyproject.toml: pip stops "
                        "with: Directory is not installable");
  }

  void check_duplicates_and_conflicts() {
    // Requirements of the same project under the same marker, in file order.
    std::map<std::pair<std::string, std::string>, std::vector<const SourcedRequirement*>> groups;
    for (const auto& sourced : requirements_) {
      const auto& req = sourced.requirement;
      if (req.normalized_name.empty()) continue;
      groups[{req.normalized_name, req.marker}].push_back(&sourced);
    }
    for (const auto& [key, members] : groups) {
      if (members.size() < 2) continue;
      if (report_conflict(members)) continue;
      for (std::size_t i = 1; i < members.size(); ++i) {
        if (members[i]->requirement.constraint) continue;
        const auto& first = *members.front();
        context_.report(rule("req-duplicate"), members[i]->file, members[i]->requirement.line, 0,
                        "'" + members[i]->requirement.name + "' is already listed at " +
                            first.file + ":" + std::to_string(first.requirement.line));
      }
    }
  }

  // True when it reported a pin that another line of the group excludes.
  bool report_conflict(const std::vector<const SourcedRequirement*>& group) {
    for (const auto* pinned : group) {
      for (const auto& pin : pinned->requirement.specifiers) {
        if (!is_exact_pin(pin)) continue;
        auto version = parse_pep440_version(pin.version);
        if (!version) continue;
        for (const auto* other : group) {
          if (other == pinned) continue;
          for (const auto& spec : other->requirement.specifiers) {
            if (specifier_allows(spec, *version).value_or(true)) continue;
            const auto* later =
                other->requirement.line > pinned->requirement.line || other->file != pinned->file
                    ? other
                    : pinned;
            const auto* earlier = later == other ? pinned : other;
            context_.report(
                rule("req-conflict"), later->file, later->requirement.line, 0,
                "'" + later->requirement.name + describe_specifiers(later->requirement) +
                    "' conflicts with '" + earlier->requirement.name +
                    describe_specifiers(earlier->requirement) + "' at " + earlier->file + ":" +
                    std::to_string(earlier->requirement.line) +
                    "; pip's resolver stops with ResolutionImpossible at container start");
            return true;
          }
        }
      }
    }
    return false;
  }

  void check_framework() {
    const auto frameworks = framework_packages(context_.profile);
    for (const auto& [file, req] : requirements_) {
      if (req.constraint || !frameworks.count(req.normalized_name)) continue;
      if (req.specifiers.empty() && req.location.empty()) continue;  // already satisfied
      const std::string what = req.location.empty() ? req.name + describe_specifiers(req)
                                                    : req.name + " from " + req.location;
      context_.report(rule("req-framework-reinstall"), file, req.line, 0,
                      "'" + what + "' asks for the " + std::string(name_of(context_.profile)) +
                          " container's own framework: unless the image ships exactly that, "
                          "pip replaces it at every cold start (slow, and it can break the "
                          "image's CUDA build); pick the container version instead");
    }
  }

  void check_unpinned() {
    for (const auto& [file, req] : requirements_) {
      if (req.constraint || req.form != RequirementForm::named || !req.location.empty()) continue;
      if (std::any_of(req.specifiers.begin(), req.specifiers.end(), is_exact_pin)) continue;
      context_.report(rule("req-unpinned"), file, req.line, 0,
                      "'" + req.name + describe_specifiers(req) +
                          "' is not pinned with ==; each cold start may install a different "
                          "version");
    }
  }

  void check_network() {
    if (!context_.env("CA_REPOSITORY_ARN").empty()) return;
    for (const auto& [file, req] : requirements_) {
      if (req.constraint || local_path_of(req)) continue;
      const bool from_index = req.location.empty();
      if (from_index && no_index_) continue;
      needs_network_.push_back(
          {file, req.line, "'" + (req.name.empty() ? req.text : req.name) + "'"});
    }
    if (needs_network_.empty()) return;
    const auto& first = needs_network_.front();
    const std::string more = needs_network_.size() > 1
                                 ? " and " + std::to_string(needs_network_.size() - 1) + " more"
                                 : std::string();
    context_.report(rule("req-needs-network"), first.file, first.line, 0,
                    "pip downloads " + first.what + more +
                        " when the container starts: the endpoint needs internet access (or "
                        "CA_REPOSITORY_ARN for CodeArtifact) and fails to start under network "
                        "isolation");
  }

  struct NetworkUse {
    std::string file;
    int line = 0;
    std::string what;
  };

  LintContext& context_;
  std::vector<SourcedRequirement> requirements_;
  std::vector<NetworkUse> needs_network_;
  std::set<std::string> visited_;
  std::vector<std::string> including_;    // the -r chain being read, outermost first
  std::optional<std::string> hash_mode_;  // where hash-checking mode was turned on
  bool no_index_ = false;
};

}  // namespace

void run_requirements_rules(LintContext& context) {
  if (context.profile == Profile::tensorflow && exists_in(context.tree, "code/lib")) return;
  RequirementsLinter(context).run();
}

}  // namespace smpack::lint_internal
