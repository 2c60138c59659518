// A Python 3 tokenizer, as CPython's tokenizer splits a module, for static checks of
// user code (handler modules). It follows CPython 3.11 and accepts 3.12 f-string forms
// (same-quote nesting inside replacement fields) without failing.
//
// What it handles: a UTF-8 BOM; \n, \r\n and \r newlines; comments; backslash
// continuation; implicit joining inside (), [], {}; INDENT/DEDENT with tabs to the next
// multiple of 8 and CPython's tab/space consistency check; string literals with any
// prefix (r, u, b, f, br, rb, fr, rf in any case), triple quotes, and f-strings whose
// replacement fields hold nested strings, brackets and format specs; numbers with
// underscores, exponents and j suffixes; identifiers, NFKC-normalised
// (python_identifier.h).
//
// Failure: tokenizing never throws. The first error stops it: `error` says where and
// what, and `tokens` holds what came before (ending with an end_marker). Python 2 forms
// the tokenizer sees (backticks, `<>`, `0777`, `10L`, `ur""`) are errors of kind
// python2_syntax; exceeded caps are of kind limit_exceeded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smpack {

enum class TokenKind {
  name,  // identifier or keyword; text is NFKC-normalised
  number,
  string,   // one literal, prefix and quotes included (an f-string is one token)
  op,       // operator or delimiter
  newline,  // end of a logical line
  indent,
  dedent,
  end_marker,
};

struct Token {
  TokenKind kind = TokenKind::end_marker;
  std::string text;
  int line = 0;    // 1-based line where the token starts
  int column = 0;  // 1-based, in code points
};

enum class TokenizeErrorKind { syntax_error, python2_syntax, limit_exceeded };

struct TokenizeError {
  TokenizeErrorKind kind = TokenizeErrorKind::syntax_error;
  int line = 0;
  int column = 0;
  std::string message;  // worded as CPython words it where CPython has a message
};

struct TokenizeLimits {
  std::size_t max_tokens = 4'000'000;
  int max_bracket_depth = 200;  // CPython's MAXLEVEL
  int max_indent_depth = 100;   // CPython's MAXINDENT
};

struct TokenizeResult {
  std::vector<Token> tokens;  // always ends with an end_marker
  std::optional<TokenizeError> error;
};

TokenizeResult tokenize_python(std::string_view source, const TokenizeLimits& limits = {});

// The contents of a string token (prefix and quotes stripped, escapes left as written);
// empty for anything that is not a string token.
std::string_view string_token_body(std::string_view token_text);

}  // namespace smpack
