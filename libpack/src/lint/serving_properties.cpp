#include "lint/serving_properties.h"

#include <charconv>

#include "smpack/utf8.h"

namespace smpack::lint_internal {
namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\f';
}

// UTF-8 of a code unit from \uXXXX (a lone surrogate becomes U+FFFD, as Java would print).
void append_java_code_unit(std::string& out, unsigned code) {
  append_utf8(out, code >= 0xD800 && code <= 0xDFFF ? 0xFFFD : code);
}

// Java's escapes: "\=", "\:", "\ ", "\\", \t \n \r \f, and \uXXXX (Properties.load
// refuses a malformed one; it is kept as written here, and the value then fails its check).
std::string unescape(std::string_view text) {
  std::string out;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\\' || i + 1 == text.size()) {
      out += text[i];
      continue;
    }
    if (text[i + 1] == 'u' && i + 6 <= text.size()) {
      unsigned code = 0;
      const auto hex = text.substr(i + 2, 4);
      const auto [end, error] = std::from_chars(hex.data(), hex.data() + hex.size(), code, 16);
      if (error == std::errc() && end == hex.data() + hex.size()) {
        append_java_code_unit(out, code);
        i += 5;
        continue;
      }
    }
    const char next = text[++i];
    out += next == 't' ? '\t' : next == 'n' ? '\n' : next == 'r' ? '\r' : next == 'f' ? '\f' : next;
  }
  return out;
}

bool ends_in_odd_backslashes(std::string_view line) {
  std::size_t count = 0;
  while (count < line.size() && line[line.size() - 1 - count] == '\\') ++count;
  return count % 2 == 1;
}

}  // namespace

std::vector<PropertyLine> parse_serving_properties(std::string_view text) {
  std::vector<PropertyLine> entries;
  std::size_t at = 0;
  int line_number = 0;
  while (at < text.size()) {
    // One logical line: physical lines joined where they end in an odd backslash, each
    // continuation's leading blanks dropped.
    std::string logical;
    const int first_line = line_number + 1;
    bool first = true;
    for (;;) {
      std::size_t end = text.find_first_of("\r\n", at);
      if (end == std::string_view::npos) end = text.size();
      std::string_view physical = text.substr(at, end - at);
      ++line_number;
      at = end;
      if (at < text.size() && text[at] == '\r') ++at;
      if (at < text.size() && text[at] == '\n') ++at;
      while (!physical.empty() && is_blank(physical.front())) physical.remove_prefix(1);
      if (first && (physical.empty() || physical.front() == '#' || physical.front() == '!')) break;
      first = false;
      const bool continued = ends_in_odd_backslashes(physical);
      if (continued) physical.remove_suffix(1);
      logical += physical;
      if (!continued || at >= text.size()) break;
    }
    if (logical.empty()) continue;
    // The key ends at the first unescaped '=', ':' or blank.
    std::size_t key_end = 0;
    while (key_end < logical.size()) {
      const char c = logical[key_end];
      if (c == '\\') {
        key_end += 2;
        continue;
      }
      if (c == '=' || c == ':' || is_blank(c)) break;
      ++key_end;
    }
    key_end = std::min(key_end, logical.size());
    std::size_t value_start = key_end;
    while (value_start < logical.size() && is_blank(logical[value_start])) ++value_start;
    if (value_start < logical.size() &&
        (logical[value_start] == '=' || logical[value_start] == ':'))
      ++value_start;
    while (value_start < logical.size() && is_blank(logical[value_start])) ++value_start;
    entries.push_back({unescape(std::string_view(logical).substr(0, key_end)),
                       unescape(std::string_view(logical).substr(value_start)), first_line});
  }
  return entries;
}

}  // namespace smpack::lint_internal
