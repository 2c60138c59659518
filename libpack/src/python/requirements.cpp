// pip's requirements-file format. Each stage follows the pip 23 / packaging 24 function of the
// same purpose (named in its comment), so that a line is accepted or refused as pip would.
#include "python/requirements.h"

#include <algorithm>
#include <array>
#include <optional>
#include <utility>
#include <variant>

namespace smpack {
namespace {

using Kind = RequirementsProblem::Kind;

bool is_ascii_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_alpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool is_alnum(char c) {
  return is_alpha(c) || is_digit(c);
}
// Python's \w for the bytes of a UTF-8 string: non-ASCII bytes belong to letters in practice.
bool is_word_byte(char c) {
  return is_alnum(c) || c == '_' || static_cast<unsigned char>(c) >= 0x80;
}
char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string to_lower(std::string_view s) {
  std::string out(s);
  for (auto& c : out) c = lower(c);
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  if (s.size() < prefix.size()) return false;
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    if (lower(s[i]) != lower(prefix[i])) return false;
  }
  return true;
}

bool ends_with_ci(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && starts_with_ci(s.substr(s.size() - suffix.size()), suffix);
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_ascii_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_ascii_space(s.back())) s.remove_suffix(1);
  return s;
}

// ---------------------------------------------------------------------------------------------
// Lines: str.splitlines(), join_lines(), ignore_comments(), expand_env_variables().

struct PhysicalLine {
  int number = 0;
  std::string_view text;
};

// The length of a Python str.splitlines() line break starting at `i`, or 0.
std::size_t line_break_length(std::string_view text, std::size_t i) {
  const auto c = static_cast<unsigned char>(text[i]);
  if (c == '\r') return (i + 1 < text.size() && text[i + 1] == '\n') ? 2 : 1;
  if (c == '\n' || c == 0x0b || c == 0x0c || (c >= 0x1c && c <= 0x1e)) return 1;
  auto rest = text.substr(i);
  if (rest.starts_with("\xC2\x85")) return 2;                                          // U+0085
  if (rest.starts_with("\xE2\x80\xA8") || rest.starts_with("\xE2\x80\xA9")) return 3;  // U+2028/9
  return 0;
}

std::vector<PhysicalLine> split_physical_lines(std::string_view text) {
  std::vector<PhysicalLine> lines;
  std::size_t start = 0;
  int number = 1;
  for (std::size_t i = 0; i < text.size();) {
    if (std::size_t n = line_break_length(text, i); n > 0) {
      lines.push_back({number++, text.substr(start, i - start)});
      i += n;
      start = i;
    } else {
      ++i;
    }
  }
  if (start < text.size()) lines.push_back({number, text.substr(start)});
  return lines;
}

// pip's COMMENT_RE.match(): "#" at the start, or after leading whitespace.
bool is_comment_line(std::string_view line) {
  std::size_t i = 0;
  while (i < line.size() && is_ascii_space(line[i])) ++i;
  return i < line.size() && line[i] == '#';
}

// pip's COMMENT_RE.sub(""): cuts from the first "#" that starts the line or follows whitespace.
std::string_view strip_comment(std::string_view line) {
  for (std::size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '#' && (i == 0 || is_ascii_space(line[i - 1]))) return line.substr(0, i);
  }
  return line;
}

std::string_view strip_backslashes(std::string_view s) {
  while (!s.empty() && s.front() == '\\') s.remove_prefix(1);
  while (!s.empty() && s.back() == '\\') s.remove_suffix(1);
  return s;
}

struct LogicalLine {
  int number = 0;
  std::string text;
};

std::vector<LogicalLine> join_lines(const std::vector<PhysicalLine>& physical) {
  std::vector<LogicalLine> logical;
  std::optional<LogicalLine> pending;
  for (const auto& line : physical) {
    const bool comment = is_comment_line(line.text);
    if (!line.text.ends_with('\\') || comment) {
      if (pending) {
        // A comment ends a continuation; the space keeps it a comment once joined.
        if (comment) pending->text += ' ';
        pending->text += line.text;
        logical.push_back(std::move(*pending));
        pending.reset();
      } else {
        logical.push_back({line.number, std::string(line.text)});
      }
    } else {
      if (!pending) pending = LogicalLine{line.number, {}};
      pending->text += strip_backslashes(line.text);
    }
  }
  if (pending) logical.push_back(std::move(*pending));
  return logical;
}

void expand_env_variables(LogicalLine& line, const RequirementsParseOptions& options,
                          std::vector<EnvReference>& references) {
  std::string& text = line.text;
  std::vector<std::pair<std::string, std::string>> replacements;
  for (std::size_t i = 0; i + 3 < text.size(); ++i) {
    if (text[i] != '$' || text[i + 1] != '{') continue;
    std::size_t j = i + 2;
    while (j < text.size() &&
           (is_digit(text[j]) || text[j] == '_' || (text[j] >= 'A' && text[j] <= 'Z'))) {
      ++j;
    }
    if (j == i + 2 || j >= text.size() || text[j] != '}') continue;
    std::string name = text.substr(i + 2, j - i - 2);
    auto it = options.env.find(name);
    const bool resolved = it != options.env.end() && !it->second.empty();
    references.push_back({line.number, name, resolved});
    if (resolved) replacements.emplace_back("${" + name + "}", it->second);
    i = j;
  }
  for (const auto& [pattern, value] : replacements) {
    std::string out;
    std::size_t pos = 0;
    for (std::size_t hit; (hit = text.find(pattern, pos)) != std::string::npos;) {
      out.append(text, pos, hit - pos);
      out += value;
      pos = hit + pattern.size();
    }
    out.append(text, pos, std::string::npos);
    text = std::move(out);
  }
}

// ---------------------------------------------------------------------------------------------
// Options: break_args_options(), shlex.split(), optparse.

struct ArgsAndOptions {
  std::string args;
  std::string options;
  int options_column = 0;  // 1-based column where the options start
};

ArgsAndOptions break_args_options(std::string_view line) {
  ArgsAndOptions out;
  std::size_t pos = 0;
  while (pos <= line.size()) {
    std::size_t end = line.find(' ', pos);
    if (end == std::string_view::npos) end = line.size();
    std::string_view token = line.substr(pos, end - pos);
    if (token.starts_with('-')) {
      out.options = std::string(line.substr(pos));
      out.options_column = static_cast<int>(pos) + 1;
      break;
    }
    if (pos > 0) out.args += ' ';
    out.args += token;
    pos = end + 1;
  }
  return out;
}

// shlex.split(s) in POSIX mode without comments; nullopt on "No closing quotation" or
// "No escaped character".
std::optional<std::vector<std::string>> shell_split(std::string_view s) {
  std::vector<std::string> tokens;
  std::string current;
  bool in_token = false;
  for (std::size_t i = 0; i < s.size(); ++i) {
    const char c = s[i];
    if (is_ascii_space(c)) {
      if (in_token) tokens.push_back(std::move(current));
      current.clear();
      in_token = false;
    } else if (c == '\\') {
      if (i + 1 >= s.size()) return std::nullopt;
      current += s[++i];
      in_token = true;
    } else if (c == '\'' || c == '"') {
      std::size_t j = i + 1;
      for (;; ++j) {
        if (j >= s.size()) return std::nullopt;
        if (s[j] == c) break;
        if (c == '"' && s[j] == '\\' && j + 1 < s.size() && (s[j + 1] == '"' || s[j + 1] == '\\')) {
          ++j;
        }
        current += s[j];
      }
      i = j;
      in_token = true;
    } else {
      current += c;
      in_token = true;
    }
  }
  if (in_token) tokens.push_back(std::move(current));
  return tokens;
}

enum class OptionScope { global, requirement };

struct OptionSpec {
  std::string_view short_name;  // "" when none
  std::string_view long_name;
  bool takes_value;
  OptionScope scope;
};

// pip 23.1's SUPPORTED_OPTIONS + SUPPORTED_OPTIONS_REQ (--install-option is gone,
// --config-settings is new), which pip up to 25.2 keeps; 25.3 removes --global-option.
constexpr std::array<OptionSpec, 17> kOptions = {{
    {"-i", "--index-url", true, OptionScope::global},
    {"", "--extra-index-url", true, OptionScope::global},
    {"", "--no-index", false, OptionScope::global},
    {"-c", "--constraint", true, OptionScope::global},
    {"-r", "--requirement", true, OptionScope::global},
    {"-e", "--editable", true, OptionScope::global},
    {"-f", "--find-links", true, OptionScope::global},
    {"", "--no-binary", true, OptionScope::global},
    {"", "--only-binary", true, OptionScope::global},
    {"", "--prefer-binary", false, OptionScope::global},
    {"", "--require-hashes", false, OptionScope::global},
    {"", "--pre", false, OptionScope::global},
    {"", "--trusted-host", true, OptionScope::global},
    {"", "--use-feature", true, OptionScope::global},
    {"", "--global-option", true, OptionScope::requirement},
    {"", "--hash", true, OptionScope::requirement},
    {"", "--config-settings", true, OptionScope::requirement},
}};

struct ParsedOption {
  const OptionSpec* spec = nullptr;
  std::string value;
};

struct ParsedOptions {
  std::vector<ParsedOption> options;
  std::vector<std::string> leftover_args;
};

// optparse's _match_abbrev(): an exact name, or the one long option it is a prefix of.
std::variant<const OptionSpec*, std::string> match_long_option(std::string_view name) {
  std::vector<const OptionSpec*> candidates;
  for (const auto& spec : kOptions) {
    if (spec.long_name == name) return &spec;
    if (spec.long_name.starts_with(name)) candidates.push_back(&spec);
  }
  if (candidates.size() == 1) return candidates.front();
  if (candidates.empty()) {
    if (name == "--install-option") {
      return "no such option: --install-option (pip 23.1 removed it; pass build settings with "
             "--config-settings)";
    }
    return "no such option: " + std::string(name);
  }
  std::string message = "ambiguous option: " + std::string(name) + " (";
  std::vector<std::string_view> names;
  for (const auto* spec : candidates) names.push_back(spec->long_name);
  std::sort(names.begin(), names.end());
  for (std::size_t i = 0; i < names.size(); ++i) {
    message += (i ? ", " : "") + std::string(names[i]);
  }
  return message + "?)";
}

// A value check done by pip's option callbacks; "" when the value is fine.
std::string check_option_value(const OptionSpec& spec, std::string_view value) {
  if (spec.long_name == "--hash") {
    auto colon = value.find(':');
    if (colon == std::string_view::npos) {
      return "Arguments to --hash must be a hash name followed by a value, like "
             "--hash=sha256:abcde...";
    }
    auto algorithm = value.substr(0, colon);
    if (algorithm != "sha256" && algorithm != "sha384" && algorithm != "sha512") {
      return "Allowed hash algorithms for --hash are sha256, sha384, sha512.";
    }
  }
  if ((spec.long_name == "--no-binary" || spec.long_name == "--only-binary") &&
      value.starts_with('-')) {
    return "--no-binary / --only-binary option requires 1 argument.";
  }
  return {};
}

std::variant<ParsedOptions, std::string> parse_options(const std::vector<std::string>& tokens) {
  ParsedOptions parsed;
  for (std::size_t i = 0; i < tokens.size(); ++i) {
    const std::string& token = tokens[i];
    if (token == "--") {
      parsed.leftover_args.insert(parsed.leftover_args.end(), tokens.begin() + i + 1, tokens.end());
      break;
    }
    const OptionSpec* spec = nullptr;
    std::optional<std::string> inline_value;
    std::string typed;
    if (token.starts_with("--")) {
      auto eq = token.find('=');
      typed = token.substr(0, eq);
      if (eq != std::string::npos) inline_value = token.substr(eq + 1);
      auto match = match_long_option(typed);
      if (auto* error = std::get_if<std::string>(&match)) return *error;
      spec = std::get<const OptionSpec*>(match);
      if (!spec->takes_value && inline_value) {
        return std::string(spec->long_name) + " option does not take a value";
      }
    } else if (token.size() > 1 && token.starts_with('-')) {
      typed = token.substr(0, 2);
      for (const auto& candidate : kOptions) {
        if (candidate.short_name == typed) spec = &candidate;
      }
      if (!spec) return "no such option: " + typed;
      // Every short option of pip's requirements files takes a value.
      if (token.size() > 2) inline_value = token.substr(2);
    } else {
      parsed.leftover_args.push_back(token);
      continue;
    }
    ParsedOption option{spec, {}};
    if (spec->takes_value) {
      if (inline_value) {
        option.value = *inline_value;
      } else if (i + 1 < tokens.size()) {
        option.value = tokens[++i];
      } else {
        return typed + " option requires 1 argument";
      }
      if (auto error = check_option_value(*spec, option.value); !error.empty()) return error;
    }
    parsed.options.push_back(std::move(option));
  }
  return parsed;
}

// ---------------------------------------------------------------------------------------------
// PEP 440 versions, matched the way packaging's regular expressions match them.

struct Cursor {
  std::string_view s;
  std::size_t pos = 0;
  bool at_end() const { return pos >= s.size(); }
  char peek(std::size_t ahead = 0) const { return pos + ahead < s.size() ? s[pos + ahead] : '\0'; }
  bool eat(char c) {
    if (peek() != c) return false;
    ++pos;
    return true;
  }
  bool eat_ci(std::string_view word) {
    if (!starts_with_ci(s.substr(std::min(pos, s.size())), word)) return false;
    pos += word.size();
    return true;
  }
  bool eat_separator() { return eat('-') || eat('_') || eat('.'); }
  std::string digits() {
    std::size_t start = pos;
    while (is_digit(peek())) ++pos;
    return std::string(s.substr(start, pos - start));
  }
  void skip_spaces() {
    while (is_ascii_space(peek())) ++pos;
  }
};

std::string strip_leading_zeros(std::string digits) {
  std::size_t i = 0;
  while (i + 1 < digits.size() && digits[i] == '0') ++i;
  return digits.substr(i);
}

struct VersionSyntax {
  bool allow_wildcard = false;
  bool allow_local = true;
  std::size_t min_release_parts = 1;
};

struct MatchedVersion {
  Pep440Version version;
  bool wildcard = false;
};

// Matches a version at the cursor and advances past it; the cursor is left unchanged and
// nullopt returned when no version starts there.
std::optional<MatchedVersion> match_version(Cursor& c, const VersionSyntax& syntax) {
  const std::size_t start = c.pos;
  MatchedVersion out;
  Pep440Version& v = out.version;
  if (lower(c.peek()) == 'v') ++c.pos;
  {
    const std::size_t mark = c.pos;
    std::string epoch = c.digits();
    if (!epoch.empty() && c.eat('!')) {
      v.epoch = strip_leading_zeros(epoch);
    } else {
      c.pos = mark;
    }
  }
  std::string first = c.digits();
  if (first.empty()) {
    c.pos = start;
    return std::nullopt;
  }
  v.release.push_back(strip_leading_zeros(first));
  while (c.peek() == '.' && is_digit(c.peek(1))) {
    ++c.pos;
    v.release.push_back(strip_leading_zeros(c.digits()));
  }
  if (v.release.size() < syntax.min_release_parts) {
    c.pos = start;
    return std::nullopt;
  }
  if (syntax.allow_wildcard && c.peek() == '.' && c.peek(1) == '*') {
    c.pos += 2;
    out.wildcard = true;
    return out;
  }
  {  // pre-release
    const std::size_t mark = c.pos;
    c.eat_separator();
    static constexpr std::array<std::pair<std::string_view, std::string_view>, 8> kPre = {
        {{"alpha", "a"},
         {"beta", "b"},
         {"preview", "rc"},
         {"pre", "rc"},
         {"a", "a"},
         {"b", "b"},
         {"c", "rc"},
         {"rc", "rc"}}};
    bool matched = false;
    for (const auto& [word, canonical] : kPre) {
      if (c.eat_ci(word)) {
        const std::size_t before_sep = c.pos;
        c.eat_separator();
        std::string n = c.digits();
        if (n.empty()) c.pos = before_sep;
        v.pre = std::make_pair(std::string(canonical), n.empty() ? "0" : strip_leading_zeros(n));
        matched = true;
        break;
      }
    }
    if (!matched) c.pos = mark;
  }
  {  // post-release
    const std::size_t mark = c.pos;
    if (c.peek() == '-' && is_digit(c.peek(1))) {
      ++c.pos;
      v.post = strip_leading_zeros(c.digits());
    } else {
      c.eat_separator();
      if (c.eat_ci("post") || c.eat_ci("rev") || c.eat_ci("r")) {
        const std::size_t before_sep = c.pos;
        c.eat_separator();
        std::string n = c.digits();
        if (n.empty()) c.pos = before_sep;
        v.post = n.empty() ? "0" : strip_leading_zeros(n);
      } else {
        c.pos = mark;
      }
    }
  }
  {  // dev release
    const std::size_t mark = c.pos;
    c.eat_separator();
    if (c.eat_ci("dev")) {
      const std::size_t before_sep = c.pos;
      c.eat_separator();
      std::string n = c.digits();
      if (n.empty()) c.pos = before_sep;
      v.dev = n.empty() ? "0" : strip_leading_zeros(n);
    } else {
      c.pos = mark;
    }
  }
  if (syntax.allow_local && c.peek() == '+' && is_alnum(c.peek(1))) {
    const std::size_t mark = c.pos;
    ++c.pos;
    std::string local;
    for (;;) {
      while (is_alnum(c.peek())) local += lower(c.s[c.pos++]);
      char sep = c.peek();
      if ((sep == '-' || sep == '_' || sep == '.') && is_alnum(c.peek(1))) {
        local += '.';
        ++c.pos;
        continue;
      }
      break;
    }
    if (local.empty()) c.pos = mark;
    v.local = local;
  }
  return out;
}

// Compares digit strings without leading zeros.
int compare_numbers(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return a.size() < b.size() ? -1 : 1;
  return a.compare(b) < 0 ? -1 : (a == b ? 0 : 1);
}

std::vector<std::string> release_without_trailing_zeros(const std::vector<std::string>& release) {
  std::vector<std::string> out = release;
  while (out.size() > 1 && out.back() == "0") out.pop_back();
  return out;
}

int compare_release(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  auto ta = release_without_trailing_zeros(a);
  auto tb = release_without_trailing_zeros(b);
  for (std::size_t i = 0; i < std::max(ta.size(), tb.size()); ++i) {
    const std::string& x = i < ta.size() ? ta[i] : "0";
    const std::string& y = i < tb.size() ? tb[i] : "0";
    if (int c = compare_numbers(x, y); c != 0) return c;
  }
  return 0;
}

// packaging's _cmpkey ranks: a dev-only release sorts before the pre-releases of its
// release, a final release after them; no post sorts first; no dev sorts last.
int compare_pre(const Pep440Version& a, const Pep440Version& b) {
  auto rank = [](const Pep440Version& v) {
    if (!v.pre && !v.post && v.dev) return 0;
    return v.pre ? 1 : 2;
  };
  if (rank(a) != rank(b)) return rank(a) < rank(b) ? -1 : 1;
  if (a.pre && b.pre) {
    if (a.pre->first != b.pre->first) return a.pre->first < b.pre->first ? -1 : 1;
    return compare_numbers(a.pre->second, b.pre->second);
  }
  return 0;
}

int compare_optional_number(const std::optional<std::string>& a,
                            const std::optional<std::string>& b, int missing_rank) {
  if (a && b) return compare_numbers(*a, *b);
  if (!a && !b) return 0;
  return (a ? -missing_rank : missing_rank);
}

int compare_public(const Pep440Version& a, const Pep440Version& b) {
  if (int c = compare_numbers(a.epoch, b.epoch); c != 0) return c;
  if (int c = compare_release(a.release, b.release); c != 0) return c;
  if (int c = compare_pre(a, b); c != 0) return c;
  if (int c = compare_optional_number(a.post, b.post, -1); c != 0) return c;
  return compare_optional_number(a.dev, b.dev, 1);
}

bool same_base(const Pep440Version& a, const Pep440Version& b) {
  return a.epoch == b.epoch && compare_release(a.release, b.release) == 0;
}

// ---------------------------------------------------------------------------------------------
// PEP 508, as packaging 24's tokenizer and parser read it (packaging/_tokenizer.py,
// packaging/_parser.py).

struct SyntaxError {
  std::size_t position = 0;
  std::string message;
};

class Pep508Parser {
 public:
  Pep508Parser(std::string_view text, int max_nesting) : c_{text, 0}, max_nesting_(max_nesting) {}

  // requirement = WS? NAME WS? extras? WS? (AT WS? URL | specifier) WS? END
  std::optional<SyntaxError> parse_requirement(Requirement& out) {
    skip_ws();
    auto name = identifier();
    if (name.empty()) return fail("Expected package name at the start of dependency specifier");
    out.name = std::string(name);
    skip_ws();
    if (auto error = extras(out.extras)) return error;
    skip_ws();
    if (c_.eat('@')) {
      skip_ws();
      const std::size_t start = c_.pos;
      while (!c_.at_end() && c_.peek() != ' ' && c_.peek() != '\t') ++c_.pos;
      if (c_.pos == start) return fail("Expected URL after @");
      out.location = std::string(c_.s.substr(start, c_.pos - start));
      skip_ws();
      if (!c_.at_end()) return fail("Expected end or semicolon (after URL and whitespace)");
      return std::nullopt;
    }
    const std::size_t specifier_start = c_.pos;
    if (auto error = specifier(out.specifiers)) return error;
    skip_ws();
    if (!c_.at_end()) {
      return fail(c_.pos == specifier_start
                      ? "Expected end or semicolon (after name and no valid version specifier)"
                      : "Expected end or semicolon (after version specifier)");
    }
    return std::nullopt;
  }

  // marker = marker_atom (BOOLOP marker_atom)* END
  std::optional<SyntaxError> parse_marker() {
    if (auto error = marker_expression(0)) return error;
    if (!c_.at_end()) return fail("Expected end of marker expression");
    return std::nullopt;
  }

 private:
  std::optional<SyntaxError> fail(std::string message) const {
    return SyntaxError{c_.pos, std::move(message)};
  }
  void skip_ws() {
    while (c_.peek() == ' ' || c_.peek() == '\t') ++c_.pos;
  }
  bool word_boundary_at(std::size_t pos) const {
    bool before = pos > 0 && is_word_byte(c_.s[pos - 1]);
    bool after = pos < c_.s.size() && is_word_byte(c_.s[pos]);
    return before != after;
  }

  // IDENTIFIER = \b[a-zA-Z0-9][a-zA-Z0-9._-]*\b
  std::string_view identifier() {
    const std::size_t start = c_.pos;
    if (!is_alnum(c_.peek()) || !word_boundary_at(start)) return {};
    std::size_t end = start + 1;
    while (end < c_.s.size() &&
           (is_alnum(c_.s[end]) || c_.s[end] == '.' || c_.s[end] == '_' || c_.s[end] == '-')) {
      ++end;
    }
    while (end > start + 1 && !word_boundary_at(end)) --end;
    if (!word_boundary_at(end)) return {};
    c_.pos = end;
    return c_.s.substr(start, end - start);
  }

  // extras = ("[" WS? (NAME (WS? "," WS? NAME)*)? WS? "]")?
  std::optional<SyntaxError> extras(std::vector<std::string>& out) {
    if (!c_.eat('[')) return std::nullopt;
    skip_ws();
    if (auto first = identifier(); !first.empty()) {
      out.emplace_back(first);
      for (;;) {
        skip_ws();
        if (!identifier_ahead().empty()) return fail("Expected comma between extra names");
        if (!c_.eat(',')) break;
        skip_ws();
        auto next = identifier();
        if (next.empty()) return fail("Expected extra name after comma");
        out.emplace_back(next);
      }
    }
    skip_ws();
    if (!c_.eat(']')) return fail("Expected matching RIGHT_BRACKET for LEFT_BRACKET, after extras");
    return std::nullopt;
  }

  std::string_view identifier_ahead() {
    const std::size_t mark = c_.pos;
    auto id = identifier();
    c_.pos = mark;
    return id;
  }

  // specifier = "(" WS? version_many WS? ")" | WS? version_many WS?
  std::optional<SyntaxError> specifier(std::vector<VersionSpecifier>& out) {
    const bool parenthesised = c_.eat('(');
    skip_ws();
    if (auto error = version_many(out)) return error;
    skip_ws();
    if (parenthesised && !c_.eat(')')) {
      return fail(
          "Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after version "
          "specifier");
    }
    return std::nullopt;
  }

  // version_many = (SPECIFIER (WS? "," WS? SPECIFIER)*)?
  std::optional<SyntaxError> version_many(std::vector<VersionSpecifier>& out) {
    for (;;) {
      auto spec = one_specifier();
      if (!spec) return std::nullopt;
      out.push_back(std::move(*spec));
      if (c_.peek() == '.' && c_.peek(1) == '*') {
        return fail(".* suffix can only be used with `==` or `!=` operators");
      }
      if (c_.peek() == '+' && is_alnum(c_.peek(1))) {
        return fail("Local version label can only be used with `==` or `!=` operators");
      }
      skip_ws();
      if (!c_.eat(',')) return std::nullopt;
      skip_ws();
    }
  }

  static std::string_view match_operator(std::string_view s) {
    for (std::string_view op : {"===", "==", "~=", "!=", "<=", ">=", "<", ">"}) {
      if (s.starts_with(op)) return op;
    }
    return {};
  }

  // SPECIFIER: an operator and a version of the shape that operator allows.
  std::optional<VersionSpecifier> one_specifier() {
    const std::size_t start = c_.pos;
    auto op = match_operator(c_.s.substr(c_.pos));
    if (op.empty()) return std::nullopt;
    c_.pos += op.size();
    c_.skip_spaces();
    VersionSpecifier spec{std::string(op), {}, false};
    const std::size_t version_start = c_.pos;
    if (op == "===") {
      while (!c_.at_end() && !is_ascii_space(c_.peek()) && c_.peek() != ';' && c_.peek() != ')') {
        ++c_.pos;
      }
      spec.version = std::string(c_.s.substr(version_start, c_.pos - version_start));
      return spec;
    }
    VersionSyntax syntax;
    syntax.allow_wildcard = op == "==" || op == "!=";
    syntax.allow_local = syntax.allow_wildcard;
    syntax.min_release_parts = op == "~=" ? 2 : 1;
    auto matched = match_version(c_, syntax);
    if (!matched) {
      c_.pos = start;
      return std::nullopt;
    }
    spec.wildcard = matched->wildcard;
    const std::size_t version_end = spec.wildcard ? c_.pos - 2 : c_.pos;
    spec.version = std::string(c_.s.substr(version_start, version_end - version_start));
    return spec;
  }

  // marker_or = marker_atom (BOOLOP marker_atom)*
  std::optional<SyntaxError> marker_expression(int depth) {
    if (auto error = marker_atom(depth)) return error;
    for (;;) {
      skip_ws();
      if (!eat_keyword("or") && !eat_keyword("and")) return std::nullopt;
      if (auto error = marker_atom(depth)) return error;
    }
  }

  // marker_atom = WS? "(" WS? marker WS? ")" WS? | WS? marker_item WS?
  std::optional<SyntaxError> marker_atom(int depth) {
    skip_ws();
    if (c_.eat('(')) {
      if (depth >= max_nesting_) return fail("Marker nests parentheses too deeply");
      skip_ws();
      if (auto error = marker_expression(depth + 1)) return error;
      skip_ws();
      if (!c_.eat(')')) {
        return fail(
            "Expected matching RIGHT_PARENTHESIS for LEFT_PARENTHESIS, after marker "
            "expression");
      }
    } else {
      if (auto error = marker_item()) return error;
    }
    skip_ws();
    return std::nullopt;
  }

  // marker_item = marker_var WS? marker_op WS? marker_var
  std::optional<SyntaxError> marker_item() {
    if (auto error = marker_var()) return error;
    skip_ws();
    if (eat_keyword("in")) {
    } else if (eat_keyword("not")) {
      if (c_.peek() != ' ' && c_.peek() != '\t') return fail("Expected whitespace after 'not'");
      skip_ws();
      if (!eat_keyword("in")) return fail("Expected 'in' after 'not'");
    } else if (auto op = match_operator(c_.s.substr(c_.pos)); !op.empty()) {
      c_.pos += op.size();
    } else {
      return fail("Expected marker operator, one of <=, <, !=, ==, >=, >, ~=, ===, in, not in");
    }
    skip_ws();
    return marker_var();
  }

  // marker_var = VARIABLE | QUOTED_STRING
  std::optional<SyntaxError> marker_var() {
    if (c_.peek() == '\'' || c_.peek() == '"') {
      auto close = c_.s.find(c_.peek(), c_.pos + 1);
      if (close == std::string_view::npos) {
        return fail("Expected a marker variable or quoted string");
      }
      c_.pos = close + 1;
      return std::nullopt;
    }
    static constexpr std::array<std::string_view, 18> kVariables = {
        "python_full_version",
        "python_version",
        "os_name",
        "os.name",
        "sys_platform",
        "sys.platform",
        "platform_release",
        "platform_system",
        "platform_version",
        "platform.version",
        "platform_machine",
        "platform.machine",
        "platform_python_implementation",
        "platform.python_implementation",
        "python_implementation",
        "implementation_name",
        "implementation_version",
        "extra"};
    for (auto variable : kVariables) {
      if (eat_keyword(variable)) return std::nullopt;
    }
    return fail("Expected a marker variable or quoted string");
  }

  // A word delimited by \b on both sides, as the tokenizer's keyword rules require.
  bool eat_keyword(std::string_view word) {
    if (!c_.s.substr(c_.pos).starts_with(word) || !word_boundary_at(c_.pos) ||
        !word_boundary_at(c_.pos + word.size())) {
      return false;
    }
    c_.pos += word.size();
    return true;
  }

  Cursor c_;
  int max_nesting_;
};

// ---------------------------------------------------------------------------------------------
// Requirement lines: pip's parse_req_from_line() and parse_editable().

constexpr std::array<std::string_view, 22> kVcsSchemes = {
    "git+http",  "git+https", "git+ssh",  "git+git",        "git+file",  "hg+file",
    "hg+http",   "hg+https",  "hg+ssh",   "hg+static-http", "svn+ssh",   "svn+http",
    "svn+https", "svn+svn",   "svn+file", "bzr+http",       "bzr+https", "bzr+ssh",
    "bzr+sftp",  "bzr+ftp",   "bzr+lp",   "bzr+file"};

std::string url_scheme(std::string_view text) {
  auto colon = text.find(':');
  return colon == std::string_view::npos ? std::string() : to_lower(text.substr(0, colon));
}

bool is_vcs_scheme(std::string_view scheme) {
  return std::find(kVcsSchemes.begin(), kVcsSchemes.end(), scheme) != kVcsSchemes.end();
}

// pip's is_url().
bool is_url(std::string_view text) {
  auto scheme = url_scheme(text);
  if (scheme.empty()) return false;
  return scheme == "http" || scheme == "https" || scheme == "file" || scheme == "ftp" ||
         is_vcs_scheme(scheme);
}

bool looks_like_path(std::string_view text) {
  return text.find('/') != std::string_view::npos || text.starts_with('.');
}

bool is_archive_file(std::string_view path) {
  static constexpr std::array<std::string_view, 12> kExtensions = {
      ".zip", ".whl",    ".tar.bz2",  ".tbz",    ".tar.xz", ".txz",
      ".tlz", ".tar.lz", ".tar.lzma", ".tar.gz", ".tgz",    ".tar"};
  return std::any_of(kExtensions.begin(), kExtensions.end(),
                     [&](std::string_view ext) { return ends_with_ci(path, ext); });
}

// pip's _strip_extras(): "./pkg[a,b]" -> "./pkg", "[a,b]".
std::pair<std::string_view, std::string_view> strip_extras(std::string_view path) {
  if (!path.ends_with(']')) return {path, {}};
  auto open = path.rfind('[');
  if (open == std::string_view::npos || open == 0 || open + 2 >= path.size() ||
      path.substr(open + 1, path.size() - open - 2).find(']') != std::string_view::npos) {
    return {path, {}};
  }
  return {path.substr(0, open), path.substr(open)};
}

std::vector<std::string> split_extras(std::string_view bracketed) {
  std::vector<std::string> extras;
  if (bracketed.size() < 2) return extras;
  std::string_view inner = bracketed.substr(1, bracketed.size() - 2);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= inner.size(); ++i) {
    if (i == inner.size() || inner[i] == ',') {
      auto part = trim(inner.substr(start, i - start));
      if (!part.empty()) extras.emplace_back(part);
      start = i + 1;
    }
  }
  return extras;
}

// The "egg=" value of a URL fragment, or "".
std::string egg_fragment(std::string_view url) {
  auto hash = url.find('#');
  if (hash == std::string_view::npos) return {};
  std::string_view fragment = url.substr(hash + 1);
  std::size_t start = 0;
  for (std::size_t i = 0; i <= fragment.size(); ++i) {
    if (i == fragment.size() || fragment[i] == '&') {
      auto part = fragment.substr(start, i - start);
      if (part.starts_with("egg=")) return std::string(part.substr(4));
      start = i + 1;
    }
  }
  return {};
}

std::string_view file_name_of(std::string_view url_or_path) {
  auto end = url_or_path.find_first_of("#?");
  auto path = url_or_path.substr(0, end);
  auto slash = path.rfind('/');
  return slash == std::string_view::npos ? path : path.substr(slash + 1);
}

// The project name of a wheel file name ("x_y-1.0-py3-none-any.whl" -> "x_y"), or nullopt
// when pip would reject the name (pip/_internal/models/wheel.py).
std::optional<std::string> wheel_project_name(std::string_view file_name) {
  auto stem = file_name.substr(0, file_name.size() - 4);
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= stem.size(); ++i) {
    if (i == stem.size() || stem[i] == '-') {
      parts.push_back(stem.substr(start, i - start));
      start = i + 1;
    }
  }
  // name-version[-build]-python-abi-platform: only the version may be empty.
  if (parts.size() != 5 && parts.size() != 6) return std::nullopt;
  for (std::size_t i = 0; i < parts.size(); ++i) {
    if (parts[i].empty() && i != 1) return std::nullopt;
  }
  if (parts.size() == 6 && !is_digit(parts[2][0])) return std::nullopt;
  return std::string(parts[0]);
}

class LineParser {
 public:
  LineParser(const RequirementsParseOptions& options, RequirementsFile& out)
      : options_(options), out_(out) {}

  void parse(const LogicalLine& line) {
    line_ = line.number;
    auto split = break_args_options(line.text);
    ParsedOptions parsed;
    if (!split.options.empty()) {
      auto tokens = shell_split(split.options);
      if (!tokens) {
        problem(split.options_column, "Could not split options: " + split.options);
        return;
      }
      auto result = parse_options(*tokens);
      if (auto* error = std::get_if<std::string>(&result)) {
        problem(split.options_column, *error);
        return;
      }
      parsed = std::move(std::get<ParsedOptions>(result));
    }
    for (const auto& arg : parsed.leftover_args) {
      ignored(split.options_column, "'" + arg + "' after the options is ignored by pip");
    }
    if (!split.args.empty()) {
      requirement_line(split.args, parsed, split.options_column);
    } else {
      option_line(parsed, split.options_column);
    }
  }

 private:
  void problem(int column, std::string message, Kind kind = Kind::invalid) {
    out_.problems.push_back({line_, column, std::move(message), kind});
  }
  void ignored(int column, std::string message) {
    problem(column, std::move(message), Kind::ignored);
  }

  void requirement_line(const std::string& args, const ParsedOptions& parsed, int options_column) {
    Requirement req;
    req.line = line_;
    req.text = std::string(trim(args));
    for (const auto& option : parsed.options) {
      if (option.spec->scope == OptionScope::global) {
        ignored(options_column,
                std::string(option.spec->long_name) + " on a requirement line is ignored by pip");
      } else if (option.spec->long_name == "--hash") {
        req.hashes.push_back(option.value);
      } else if (option.spec->long_name == "--global-option") {
        problem(options_column,
                "--global-option makes pip 23.1 to 25.2 build every package from source (it "
                "implies --no-binary=:all:), which fails for packages published only as wheels, "
                "torch among them, and pip 25.3 refuses the option; use --config-settings",
                Kind::deprecated);
      }
    }
    if (parse_requirement_text(args, req)) out_.requirements.push_back(std::move(req));
  }

  void option_line(const ParsedOptions& parsed, int column) {
    // pip reads only the first -e and the first -r/-c of a line.
    const ParsedOption* editable = nullptr;
    const ParsedOption* include = nullptr;
    for (const auto& option : parsed.options) {
      auto name = option.spec->long_name;
      if (name == "--editable") {
        if (!editable) editable = &option;
      } else if (name == "--requirement" || name == "--constraint") {
        if (!include) include = &option;
      } else if (option.spec->scope == OptionScope::requirement) {
        ignored(column, std::string(name) + " without a requirement on its line is ignored");
      } else {
        out_.options.push_back({line_, std::string(name), option.value});
      }
    }
    if (editable) {
      parse_editable(editable->value, column);
    } else if (include) {
      out_.includes.push_back({line_,
                               include->spec->long_name == "--requirement"
                                   ? IncludeKind::requirements
                                   : IncludeKind::constraints,
                               include->value});
    }
  }

  // parse_editable(): a local project directory or a VCS URL with #egg=.
  void parse_editable(const std::string& value, int column) {
    Requirement req;
    req.line = line_;
    req.text = value;
    req.editable = true;
    auto [path, extras] = strip_extras(value);
    std::string url = value;
    for (std::string_view vcs : {"git", "hg", "svn", "bzr"}) {
      if (starts_with_ci(url, std::string(vcs) + ":")) {
        url = std::string(vcs) + "+" + url;
        break;
      }
    }
    if (url_scheme(url).empty() || url.find("://") == std::string::npos) {
      req.form = RequirementForm::local_path;
      req.location = std::string(path);
      req.extras = split_extras(extras);
      out_.requirements.push_back(std::move(req));
      return;
    }
    if (!is_vcs_scheme(url_scheme(url))) {
      problem(column, value +
                          " is not a valid editable requirement. It should either be a path to a "
                          "local project or a VCS URL (beginning with git+, hg+, svn+ or bzr+).");
      return;
    }
    req.form = RequirementForm::url;
    req.location = url;
    req.name = egg_fragment(url);
    if (req.name.empty()) {
      problem(column, "Could not detect requirement name for '" + value +
                          "', please specify one with #egg=your_package_name");
      return;
    }
    req.normalized_name = normalize_project_name(req.name);
    out_.requirements.push_back(std::move(req));
  }

  bool parse_marker(std::string_view marker, int column) {
    Pep508Parser parser(marker, options_.limits.max_marker_nesting);
    if (auto error = parser.parse_marker()) {
      problem(column + static_cast<int>(error->position),
              "Invalid marker: " + error->message + " in '" + std::string(marker) + "'");
      return false;
    }
    return true;
  }

  // parse_req_from_line(): false (with a problem) when pip would refuse the line.
  bool parse_requirement_text(std::string_view args, Requirement& req) {
    const bool url = is_url(args);
    std::string_view separator = url ? "; " : ";";
    std::string_view body = args;
    if (auto sep = args.find(separator); sep != std::string_view::npos) {
      body = args.substr(0, sep);
      std::string_view raw_marker = args.substr(sep + separator.size());
      std::string_view marker = trim(raw_marker);
      if (!marker.empty()) {
        const int marker_column = static_cast<int>(marker.data() - args.data()) + 1;
        if (!parse_marker(marker, marker_column)) return false;
        req.marker = std::string(marker);
      }
    }
    const std::string_view leading = body;
    body = trim(body);
    const int body_column = static_cast<int>(body.data() - leading.data()) + 1;
    if (url) {
      req.form = RequirementForm::url;
      req.location = std::string(body);
      return name_from_location(req, body_column);
    }
    auto at = body.find('@');
    const bool named_url = at != std::string_view::npos && !looks_like_path(body.substr(0, at));
    auto [path, extras] = strip_extras(body);
    if (!named_url && (looks_like_path(body) || is_archive_file(path))) {
      req.form = RequirementForm::local_path;
      req.location = std::string(path);
      req.extras = split_extras(extras);
      return name_from_location(req, body_column);
    }
    Pep508Parser parser(body, options_.limits.max_marker_nesting);
    if (auto error = parser.parse_requirement(req)) {
      std::string message = "Invalid requirement: '" + std::string(body) + "': " + error->message;
      if (body.find('=') != std::string_view::npos &&
          body.find_first_of("<>!~") == std::string_view::npos &&
          body.find("==") == std::string_view::npos) {
        message += " (hint: = is not a valid operator. Did you mean == ?)";
      }
      problem(body_column + static_cast<int>(error->position), std::move(message));
      return false;
    }
    req.normalized_name = normalize_project_name(req.name);
    return true;
  }

  // A URL or path requirement is named by its #egg= fragment or its wheel file name.
  bool name_from_location(Requirement& req, int column) {
    auto file_name = file_name_of(req.location);
    if (ends_with_ci(file_name, ".whl")) {
      auto name = wheel_project_name(file_name);
      if (!name) {
        problem(column, std::string(file_name) + " is not a valid wheel filename.");
        return false;
      }
      req.name = *name;
    } else {
      req.name = egg_fragment(req.location);
    }
    req.normalized_name = normalize_project_name(req.name);
    return true;
  }

  const RequirementsParseOptions& options_;
  RequirementsFile& out_;
  int line_ = 0;
};

}  // namespace

std::string normalize_project_name(std::string_view name) {
  std::string out;
  bool in_separator_run = false;
  for (char c : name) {
    if (c == '-' || c == '_' || c == '.') {
      if (!in_separator_run) out += '-';
      in_separator_run = true;
    } else {
      out += lower(c);
      in_separator_run = false;
    }
  }
  return out;
}

RequirementsFile parse_requirements(std::string_view text,
                                    const RequirementsParseOptions& options) {
  RequirementsFile out;
  if (text.size() > options.limits.max_bytes) {
    out.problems.push_back({0, 0,
                            "requirements file is " + std::to_string(text.size()) +
                                " bytes, more than the " +
                                std::to_string(options.limits.max_bytes) + " this reader accepts",
                            Kind::invalid});
    return out;
  }
  if (text.starts_with("\xEF\xBB\xBF")) text.remove_prefix(3);
  auto logical = join_lines(split_physical_lines(text));
  LineParser parser(options, out);
  std::size_t count = 0;
  for (auto& line : logical) {
    line.text = std::string(trim(strip_comment(line.text)));
    if (line.text.empty()) continue;
    if (++count > options.limits.max_logical_lines) {
      out.problems.push_back({line.number, 0,
                              "more than " + std::to_string(options.limits.max_logical_lines) +
                                  " lines; the rest is not read",
                              Kind::invalid});
      break;
    }
    expand_env_variables(line, options, out.env_references);
    parser.parse(line);
  }
  return out;
}

std::optional<Pep440Version> parse_pep440_version(std::string_view text) {
  Cursor c{trim(text), 0};
  auto matched = match_version(c, VersionSyntax{});
  if (!matched || !c.at_end()) return std::nullopt;
  return matched->version;
}

int compare_versions(const Pep440Version& a, const Pep440Version& b) {
  if (int c = compare_public(a, b); c != 0) return c;
  if (a.local == b.local) return 0;
  return a.local < b.local ? -1 : 1;
}

std::optional<bool> specifier_allows(const VersionSpecifier& spec, const Pep440Version& version) {
  auto target = parse_pep440_version(spec.version);
  if (!target) return std::nullopt;
  const std::string& op = spec.op;
  Pep440Version public_version = version;
  public_version.local.clear();
  if (op == "==" || op == "!=") {
    bool equal;
    if (spec.wildcard) {
      equal = version.epoch == target->epoch;
      for (std::size_t i = 0; equal && i < target->release.size(); ++i) {
        const std::string& part = i < version.release.size() ? version.release[i] : "0";
        equal = compare_numbers(part, target->release[i]) == 0;
      }
    } else {
      equal = compare_versions(target->local.empty() ? public_version : version, *target) == 0;
    }
    return op == "==" ? equal : !equal;
  }
  if (op == "===") return compare_versions(version, *target) == 0;
  const int c = compare_public(public_version, *target);
  if (op == "<=") return c <= 0;
  if (op == ">=") return c >= 0;
  if (op == "<") {
    const bool is_pre = version.pre || version.dev;
    const bool target_pre = target->pre || target->dev;
    return c < 0 && !(!target_pre && is_pre && same_base(version, *target));
  }
  if (op == ">") {
    return c > 0 && !(!target->post && version.post && same_base(version, *target)) &&
           !(!version.local.empty() && same_base(version, *target));
  }
  if (op == "~=") {
    VersionSpecifier prefix{"==", {}, true};
    Pep440Version prefix_version = *target;
    prefix_version.release.pop_back();
    for (std::size_t i = 0; i < prefix_version.release.size(); ++i) {
      prefix.version += (i ? "." : "") + prefix_version.release[i];
    }
    if (target->epoch != "0") prefix.version = target->epoch + "!" + prefix.version;
    return c >= 0 && specifier_allows(prefix, version).value_or(false);
  }
  return std::nullopt;
}

}  // namespace smpack
