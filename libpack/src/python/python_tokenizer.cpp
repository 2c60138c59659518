// The Python tokenizer: CPython's tokenizer.c rules, restated for static checks.
#include "python/python_tokenizer.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdint>

#include "python/python_identifier.h"
#include "smpack/utf8.h"

namespace smpack {
namespace {

constexpr int kTabSize = 8;  // CPython's tokenizer: a tab moves to the next multiple of 8

bool is_ascii_identifier_start(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool is_ascii_digit(char c) {
  return c >= '0' && c <= '9';
}
bool is_non_ascii(char c) {
  return static_cast<unsigned char>(c) >= 0x80;
}

// Non-ASCII code points CPython refuses outside strings and comments, where people paste
// them by accident: Unicode spaces and typographic quotes.
bool is_refused_non_ascii(std::uint32_t cp) {
  constexpr std::array<std::uint32_t, 12> kRefused = {0x00A0, 0x1680, 0x2028, 0x2029,
                                                      0x202F, 0x205F, 0x3000, 0xFEFF,
                                                      0x2018, 0x2019, 0x201C, 0x201D};
  return (cp >= 0x2000 && cp <= 0x200F) ||
         std::find(kRefused.begin(), kRefused.end(), cp) != kRefused.end();
}

// Which string prefixes Python 3 accepts, compared case-insensitively.
enum class PrefixKind { not_a_prefix, valid, python2_only };

PrefixKind classify_string_prefix(std::string_view word) {
  if (word.size() > 2) return PrefixKind::not_a_prefix;
  std::string lower;
  for (char c : word) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  constexpr std::array<std::string_view, 8> kValid = {"r", "u", "b", "br", "rb", "f", "fr", "rf"};
  if (std::find(kValid.begin(), kValid.end(), lower) != kValid.end()) return PrefixKind::valid;
  if (lower == "ur" || lower == "ru") return PrefixKind::python2_only;
  return PrefixKind::not_a_prefix;
}

bool prefix_has(std::string_view prefix, char letter) {
  return std::any_of(prefix.begin(), prefix.end(),
                     [&](char c) { return std::tolower(static_cast<unsigned char>(c)) == letter; });
}

// The encoding a PEP 263 cookie on one of the first two lines names, lower-cased; empty
// when there is none.
std::string coding_cookie(std::string_view source) {
  std::size_t line_start = 0;
  for (int line = 0; line < 2 && line_start < source.size(); ++line) {
    std::size_t line_end = source.find_first_of("\r\n", line_start);
    if (line_end == std::string_view::npos) line_end = source.size();
    std::string_view text = source.substr(line_start, line_end - line_start);
    const std::size_t hash = text.find('#');
    if (hash != std::string_view::npos) {
      const std::size_t key = text.find("coding", hash);
      if (key != std::string_view::npos && key + 6 < text.size() &&
          (text[key + 6] == ':' || text[key + 6] == '=')) {
        std::size_t pos = key + 7;
        while (pos < text.size() && (text[pos] == ' ' || text[pos] == '\t')) ++pos;
        std::string name;
        while (pos < text.size() && (std::isalnum(static_cast<unsigned char>(text[pos])) ||
                                     text[pos] == '-' || text[pos] == '_' || text[pos] == '.')) {
          name += static_cast<char>(std::tolower(static_cast<unsigned char>(text[pos++])));
        }
        return name;
      }
    }
    line_start = line_end + 1;
    if (line_end + 1 < source.size() && source[line_end] == '\r' && source[line_end + 1] == '\n') {
      ++line_start;
    }
  }
  return {};
}

bool names_utf8(std::string_view encoding) {
  return encoding.empty() || encoding == "utf-8" || encoding == "utf8" ||
         encoding.rfind("utf-8-", 0) == 0 || encoding.rfind("utf_8", 0) == 0;
}

struct OpenBracket {
  char bracket;
  int line;
  int column;
};

class Tokenizer {
 public:
  Tokenizer(std::string_view source, const TokenizeLimits& limits)
      : source_(source), limits_(limits) {
    if (source_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = line_start_ = column_pos_ = 3;
    check_utf8_ = names_utf8(coding_cookie(source_));
  }

  TokenizeResult run() {
    while (!error_ && tokenize_next()) {
    }
    finish();
    return {std::move(tokens_), std::move(error_)};
  }

 private:
  bool at_end() const { return pos_ >= source_.size(); }
  char peek(std::size_t ahead = 0) const {
    return pos_ + ahead < source_.size() ? source_[pos_ + ahead] : '\0';
  }
  std::size_t newline_length_at(std::size_t pos) const {
    if (pos >= source_.size()) return 0;
    if (source_[pos] == '\n') return 1;
    if (source_[pos] == '\r') return pos + 1 < source_.size() && source_[pos + 1] == '\n' ? 2 : 1;
    return 0;
  }
  void consume_newline() {
    pos_ += newline_length_at(pos_);
    ++line_;
    line_start_ = column_pos_ = pos_;
    column_ = 1;
  }

  // 1-based code-point column of `pos` on the current line. Positions only move forward, so
  // the count is kept incrementally: a long line costs linear time, not quadratic.
  int column_of(std::size_t pos) {
    if (pos < column_pos_) {
      column_pos_ = line_start_;
      column_ = 1;
    }
    for (; column_pos_ < pos; ++column_pos_) {
      if ((static_cast<unsigned char>(source_[column_pos_]) & 0xC0) != 0x80) ++column_;
    }
    return column_;
  }

  void fail(TokenizeErrorKind kind, int line, int column, std::string message) {
    if (!error_) error_ = TokenizeError{kind, line, column, std::move(message)};
  }
  void fail_here(TokenizeErrorKind kind, std::string message) {
    fail(kind, line_, column_of(pos_), std::move(message));
  }

  void emit(TokenKind kind, std::string text, int line, int column) {
    if (tokens_.size() >= limits_.max_tokens) {
      fail(TokenizeErrorKind::limit_exceeded, line, column,
           "more than " + std::to_string(limits_.max_tokens) + " tokens");
      return;
    }
    tokens_.push_back(Token{kind, std::move(text), line, column});
    if (kind != TokenKind::newline && kind != TokenKind::indent && kind != TokenKind::dedent) {
      line_has_tokens_ = true;
    }
  }

  // One step: indentation at a line start, then one token, a newline or a comment.
  // Returns false at the end of the input.
  bool tokenize_next() {
    if (at_line_start_) {
      // Inside brackets a new physical line continues the logical one: no indentation.
      if (brackets_.empty() && !read_indentation()) return !at_end() && !error_;
      at_line_start_ = false;
    }
    while (peek() == ' ' || peek() == '\t' || peek() == '\f') ++pos_;
    if (at_end()) return false;
    const char c = peek();
    if (c == '#') {
      skip_comment();
    } else if (newline_length_at(pos_) > 0) {
      if (brackets_.empty() && line_has_tokens_) {
        emit(TokenKind::newline, "", line_, column_of(pos_));
        line_has_tokens_ = false;
      }
      consume_newline();
      at_line_start_ = true;
    } else if (c == '\\') {
      read_continuation();
    } else if (is_ascii_identifier_start(c) || is_non_ascii(c)) {
      read_name_or_prefixed_string();
    } else if (is_ascii_digit(c) || (c == '.' && is_ascii_digit(peek(1)))) {
      read_number();
    } else if (c == '"' || c == '\'') {
      const int line = line_;
      const int column = column_of(pos_);
      const std::size_t start = pos_;
      if (read_string_body("", 0)) {
        emit(TokenKind::string, std::string(source_.substr(start, pos_ - start)), line, column);
      }
    } else {
      read_operator();
    }
    return !error_;
  }

  void skip_comment() {
    while (!at_end() && newline_length_at(pos_) == 0) ++pos_;
  }

  void read_continuation() {
    const std::size_t after = pos_ + 1;
    if (after >= source_.size()) {
      ++pos_;
      fail_here(TokenizeErrorKind::syntax_error, "unexpected EOF while parsing");
      return;
    }
    if (newline_length_at(after) == 0) {
      ++pos_;
      fail_here(TokenizeErrorKind::syntax_error,
                "unexpected character after line continuation character");
      return;
    }
    pos_ = after;
    consume_newline();
    if (at_end()) fail_here(TokenizeErrorKind::syntax_error, "unexpected EOF while parsing");
  }

  // Measures the indentation of a new line and emits INDENT/DEDENT. Blank and comment-only
  // lines are consumed whole (they do not count). Returns true when a logical line starts.
  bool read_indentation() {
    for (;;) {
      int col = 0;
      int alt_col = 0;
      for (;; ++pos_) {
        const char c = peek();
        if (c == ' ') {
          ++col, ++alt_col;
        } else if (c == '\t') {
          col = (col / kTabSize + 1) * kTabSize;
          ++alt_col;
        } else if (c == '\f') {
          col = alt_col = 0;
        } else {
          break;
        }
      }
      if (at_end()) return false;
      if (peek() == '#') skip_comment();
      if (at_end()) return false;
      if (newline_length_at(pos_) > 0) {
        consume_newline();
        continue;
      }
      if (peek() == '\\') return true;  // a continuation line keeps the previous indent
      apply_indentation(col, alt_col);
      return !error_;
    }
  }

  void apply_indentation(int col, int alt_col) {
    const int line = line_;
    const int column = column_of(pos_);
    constexpr const char* kTabError = "inconsistent use of tabs and spaces in indentation";
    if (col == indents_.back()) {
      if (alt_col != alt_indents_.back())
        fail(TokenizeErrorKind::syntax_error, line, column, kTabError);
    } else if (col > indents_.back()) {
      if (static_cast<int>(indents_.size()) > limits_.max_indent_depth) {
        fail(TokenizeErrorKind::limit_exceeded, line, column, "too many levels of indentation");
        return;
      }
      if (alt_col <= alt_indents_.back()) {
        fail(TokenizeErrorKind::syntax_error, line, column, kTabError);
        return;
      }
      indents_.push_back(col);
      alt_indents_.push_back(alt_col);
      emit(TokenKind::indent, "", line, column);
    } else {
      while (indents_.size() > 1 && col < indents_.back()) {
        indents_.pop_back();
        alt_indents_.pop_back();
        emit(TokenKind::dedent, "", line, column);
      }
      if (col != indents_.back()) {
        fail(TokenizeErrorKind::syntax_error, line, column,
             "unindent does not match any outer indentation level");
      } else if (alt_col != alt_indents_.back()) {
        fail(TokenizeErrorKind::syntax_error, line, column, kTabError);
      }
    }
  }

  // Reads one identifier and returns its bytes; fails on characters CPython refuses.
  std::string_view read_identifier() {
    const std::size_t start = pos_;
    while (!at_end()) {
      const char c = peek();
      if (is_ascii_identifier_start(c) || is_ascii_digit(c)) {
        ++pos_;
        continue;
      }
      if (!is_non_ascii(c)) break;
      const Utf8Char decoded = decode_utf8(source_, pos_);
      if (!decoded.valid) {
        fail_here(TokenizeErrorKind::syntax_error, "invalid UTF-8 byte in an identifier");
        break;
      }
      if (is_refused_non_ascii(decoded.code_point) ||
          is_refused_ascii_lookalike(decoded.code_point)) {
        if (pos_ == start) {
          char hex[16];
          std::snprintf(hex, sizeof hex, "U+%04X", decoded.code_point);
          fail_here(TokenizeErrorKind::syntax_error,
                    std::string("invalid character (") + hex + ")");
        }
        break;
      }
      pos_ += decoded.length;
    }
    return source_.substr(start, pos_ - start);
  }

  void read_name_or_prefixed_string() {
    const int line = line_;
    const int column = column_of(pos_);
    const std::size_t start = pos_;
    const std::string_view word = read_identifier();
    if (error_ || word.empty()) return;
    if (peek() == '"' || peek() == '\'') {
      const PrefixKind prefix = classify_string_prefix(word);
      if (prefix == PrefixKind::python2_only) {
        fail(TokenizeErrorKind::python2_syntax, line, column,
             "the '" + std::string(word) + "' string prefix is Python 2 only");
        return;
      }
      if (prefix == PrefixKind::valid) {
        if (read_string_body(word, 0)) {
          emit(TokenKind::string, std::string(source_.substr(start, pos_ - start)), line, column);
        }
        return;
      }
    }
    const bool ascii = std::none_of(word.begin(), word.end(), is_non_ascii);
    emit(TokenKind::name, ascii ? std::string(word) : normalize_python_identifier(word), line,
         column);
  }

  // Reads a string literal from its opening quote (the prefix is already consumed).
  // `depth` counts f-string replacement fields it sits in. Returns false after failing.
  bool read_string_body(std::string_view prefix, int depth) {
    const int start_line = line_;
    const int start_column = column_of(pos_) - static_cast<int>(prefix.size());
    const char quote = peek();
    const bool triple = peek(1) == quote && peek(2) == quote;
    const bool fstring = prefix_has(prefix, 'f');
    const bool raw = prefix_has(prefix, 'r');
    pos_ += triple ? 3 : 1;
    const auto unterminated = [&] {
      fail(TokenizeErrorKind::syntax_error, start_line, start_column,
           std::string(triple ? "unterminated triple-quoted string literal"
                              : "unterminated string literal") +
               " (detected at line " + std::to_string(line_) + ")");
      return false;
    };
    for (;;) {
      if (at_end()) return unterminated();
      const char c = peek();
      if (newline_length_at(pos_) > 0) {
        if (!triple) return unterminated();
        consume_newline();
      } else if (c == '\\') {
        ++pos_;
        if (at_end()) return unterminated();
        if (newline_length_at(pos_) > 0) {
          consume_newline();
        } else if (fstring && !raw && peek() == 'N' && peek(1) == '{') {
          // \N{NAME}: the braces belong to the escape, not to a replacement field.
          const std::size_t close = source_.find('}', pos_);
          pos_ = close == std::string_view::npos ? source_.size() : close + 1;
        } else if (!fstring || (peek() != '{' && peek() != '}')) {
          ++pos_;  // an escaped character, quotes included (also in raw strings)
        }
      } else if (c == quote && (!triple || (peek(1) == quote && peek(2) == quote))) {
        pos_ += triple ? 3 : 1;
        return true;
      } else if (fstring && c == '{') {
        if (peek(1) == '{') {
          pos_ += 2;
        } else {
          ++pos_;
          if (!read_replacement_field(quote, triple, depth + 1)) return false;
        }
      } else if (fstring && c == '}') {
        if (peek(1) != '}') {
          fail_here(TokenizeErrorKind::syntax_error, "f-string: single '}' is not allowed");
          return false;
        }
        pos_ += 2;
      } else {
        ++pos_;
      }
    }
  }

  // Reads an f-string replacement field after its `{`, through its `}`: the expression
  // (nested strings of any quote, brackets, comments as Python 3.12 allows), an optional
  // conversion and a format spec that may hold nested fields.
  bool read_replacement_field(char outer_quote, bool outer_triple, int depth) {
    if (depth > limits_.max_bracket_depth) {
      fail_here(TokenizeErrorKind::limit_exceeded, "f-string fields nested too deeply");
      return false;
    }
    int brackets = 0;
    for (;;) {
      if (at_end()) {
        fail_here(TokenizeErrorKind::syntax_error, "f-string: expecting '}'");
        return false;
      }
      const char c = peek();
      if (newline_length_at(pos_) > 0) {
        consume_newline();
      } else if (c == '#') {
        skip_comment();
      } else if (c == '"' || c == '\'') {
        if (!read_string_body("", depth)) return false;
      } else if (is_ascii_identifier_start(c) || is_non_ascii(c)) {
        const std::string_view word = read_identifier();
        if (error_) return false;
        if (word.empty()) {
          ++pos_;
        } else if ((peek() == '"' || peek() == '\'') &&
                   classify_string_prefix(word) == PrefixKind::valid &&
                   !read_string_body(word, depth)) {
          return false;
        }
      } else if (c == '(' || c == '[' || c == '{') {
        if (++brackets + depth > limits_.max_bracket_depth) {
          fail_here(TokenizeErrorKind::limit_exceeded, "too many nested parentheses");
          return false;
        }
        ++pos_;
      } else if (c == ')' || c == ']' || (c == '}' && brackets > 0)) {
        brackets = std::max(0, brackets - 1);
        ++pos_;
      } else if (c == '}') {
        ++pos_;
        return true;
      } else if (c == ':' && brackets == 0) {
        ++pos_;
        return read_format_spec(outer_quote, outer_triple, depth);
      } else {
        ++pos_;
      }
    }
  }

  bool read_format_spec(char outer_quote, bool outer_triple, int depth) {
    for (;;) {
      if (at_end() || (peek() == outer_quote &&
                       (!outer_triple || (peek(1) == outer_quote && peek(2) == outer_quote)))) {
        fail_here(TokenizeErrorKind::syntax_error, "f-string: expecting '}'");
        return false;
      }
      const char c = peek();
      if (newline_length_at(pos_) > 0) {
        if (!outer_triple) {
          fail_here(TokenizeErrorKind::syntax_error, "f-string: expecting '}'");
          return false;
        }
        consume_newline();
      } else if (c == '{') {
        ++pos_;
        if (!read_replacement_field(outer_quote, outer_triple, depth + 1)) return false;
      } else if (c == '}') {
        ++pos_;
        return true;
      } else {
        ++pos_;
      }
    }
  }

  void read_digits(bool (*is_digit)(char)) {
    while (is_digit(peek()) || (peek() == '_' && is_digit(peek(1)))) ++pos_;
  }

  void read_number() {
    const int line = line_;
    const int column = column_of(pos_);
    const std::size_t start = pos_;
    const auto hex = [](char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; };
    const auto octal = [](char c) { return c >= '0' && c <= '7'; };
    const auto binary = [](char c) { return c == '0' || c == '1'; };
    const auto decimal = [](char c) { return is_ascii_digit(c); };
    bool is_integer = true;
    bool leading_zero_decimal = false;
    const char radix = static_cast<char>(std::tolower(static_cast<unsigned char>(peek(1))));
    if (peek() == '0' && (radix == 'x' || radix == 'o' || radix == 'b')) {
      pos_ += 2;
      read_digits(radix == 'x' ? +hex : radix == 'o' ? +octal : +binary);
    } else {
      const bool starts_with_zero = peek() == '0';
      read_digits(+decimal);
      const std::string_view digits = source_.substr(start, pos_ - start);
      leading_zero_decimal =
          starts_with_zero && digits.find_first_not_of("0_") != std::string_view::npos;
      if (peek() == '.') {
        is_integer = false;
        ++pos_;
        read_digits(+decimal);
      }
      if ((peek() == 'e' || peek() == 'E') &&
          (is_ascii_digit(peek(1)) ||
           ((peek(1) == '+' || peek(1) == '-') && is_ascii_digit(peek(2))))) {
        is_integer = false;
        pos_ += 2;
        read_digits(+decimal);
      }
      if (peek() == 'j' || peek() == 'J') {
        is_integer = false;
        ++pos_;
      }
    }
    if (is_integer && (peek() == 'l' || peek() == 'L')) {
      fail_here(TokenizeErrorKind::python2_syntax, "the long integer suffix 'L' is Python 2 only");
      return;
    }
    if (is_integer && leading_zero_decimal) {
      fail(TokenizeErrorKind::python2_syntax, line, column,
           "leading zeros in decimal integer literals are not permitted; use an 0o prefix for "
           "octal integers");
      return;
    }
    emit(TokenKind::number, std::string(source_.substr(start, pos_ - start)), line, column);
  }

  void read_operator() {
    const int line = line_;
    const int column = column_of(pos_);
    const char c = peek();
    if (c == '`') {
      fail_here(TokenizeErrorKind::python2_syntax, "backtick repr is Python 2 only; use repr()");
      return;
    }
    if (c == '<' && peek(1) == '>') {
      fail_here(TokenizeErrorKind::python2_syntax, "the '<>' operator is Python 2 only; use '!='");
      return;
    }
    if (is_non_ascii(c) || static_cast<unsigned char>(c) < 0x20 || c == 0x7F) {
      const Utf8Char decoded = decode_utf8(source_, pos_);
      if (!decoded.valid && check_utf8_) {
        fail_here(TokenizeErrorKind::syntax_error, "invalid UTF-8 byte");
      } else {
        char hex[16];
        std::snprintf(hex, sizeof hex, "U+%04X", decoded.code_point);
        fail_here(TokenizeErrorKind::syntax_error,
                  std::string("invalid non-printable character ") + hex);
      }
      return;
    }
    static constexpr std::array<std::string_view, 23> kLongOperators = {
        "**=", "//=", ">>=", "<<=", "...", "!=", "%=", "&=", "**", "*=", "+=", "-=",
        "->",  "//",  "/=",  ":=",  "<<",  "<=", "==", ">=", ">>", "@=", "^="};
    std::string_view op;
    for (std::string_view candidate : kLongOperators) {
      if (source_.substr(pos_, candidate.size()) == candidate) {
        op = candidate;
        break;
      }
    }
    if (op.empty() && c == '|' && peek(1) == '=') op = "|=";
    if (op.empty()) {
      constexpr std::string_view kSingle = "%&()*+,-./:;<=>@[]^{|}~";
      if (kSingle.find(c) == std::string_view::npos) {
        fail_here(TokenizeErrorKind::syntax_error, std::string("invalid character '") + c + "'");
        return;
      }
      op = source_.substr(pos_, 1);
    }
    if (op == "(" || op == "[" || op == "{") {
      if (static_cast<int>(brackets_.size()) >= limits_.max_bracket_depth) {
        fail_here(TokenizeErrorKind::limit_exceeded, "too many nested parentheses");
        return;
      }
      brackets_.push_back({c, line, column});
    } else if (op == ")" || op == "]" || op == "}") {
      if (!check_closing_bracket(c)) return;
    }
    pos_ += op.size();
    emit(TokenKind::op, std::string(op), line, column);
  }

  bool check_closing_bracket(char closing) {
    if (brackets_.empty()) {
      fail_here(TokenizeErrorKind::syntax_error, std::string("unmatched '") + closing + "'");
      return false;
    }
    const OpenBracket open = brackets_.back();
    const char expected = open.bracket == '(' ? ')' : open.bracket == '[' ? ']' : '}';
    if (closing != expected) {
      std::string message = std::string("closing parenthesis '") + closing +
                            "' does not match opening parenthesis '" + open.bracket + "'";
      if (open.line != line_) message += " on line " + std::to_string(open.line);
      fail_here(TokenizeErrorKind::syntax_error, std::move(message));
      return false;
    }
    brackets_.pop_back();
    return true;
  }

  void finish() {
    if (!error_ && !brackets_.empty()) {
      const OpenBracket& open = brackets_.front();
      fail(TokenizeErrorKind::syntax_error, open.line, open.column,
           std::string("'") + open.bracket + "' was never closed");
    }
    if (!error_) {
      if (line_has_tokens_) emit(TokenKind::newline, "", line_, column_of(pos_));
      for (std::size_t i = 1; i < indents_.size(); ++i) emit(TokenKind::dedent, "", line_, 1);
    }
    // The end marker is always there, even past the token cap, so consumers can rely on it.
    tokens_.push_back(
        Token{TokenKind::end_marker, "", line_, column_of(std::min(pos_, source_.size()))});
  }

  std::string_view source_;
  TokenizeLimits limits_;
  std::size_t pos_ = 0;
  int line_ = 1;
  std::size_t line_start_ = 0;
  std::size_t column_pos_ = 0;  // column_of's cache: column_ is the column of column_pos_
  int column_ = 1;
  bool check_utf8_ = true;
  bool at_line_start_ = true;
  bool line_has_tokens_ = false;
  std::vector<int> indents_{0};
  std::vector<int> alt_indents_{0};  // the same columns with tabs counted as 1 (TabError check)
  std::vector<OpenBracket> brackets_;
  std::vector<Token> tokens_;
  std::optional<TokenizeError> error_;
};

}  // namespace

TokenizeResult tokenize_python(std::string_view source, const TokenizeLimits& limits) {
  return Tokenizer(source, limits).run();
}

std::string_view string_token_body(std::string_view token_text) {
  const std::size_t quote = token_text.find_first_of("'\"");
  if (quote == std::string_view::npos) return {};
  std::string_view rest = token_text.substr(quote);
  const std::size_t quote_length =
      rest.size() >= 6 && rest.substr(0, 3) == std::string(3, rest[0]) ? 3 : 1;
  if (rest.size() < 2 * quote_length) return {};
  return rest.substr(quote_length, rest.size() - 2 * quote_length);
}

}  // namespace smpack
