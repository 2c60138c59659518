// The statement structure of a tokenized Python module: logical lines grouped into
// simple statements and compound statements with their bodies, and helpers to find
// top-level separators inside one statement. It is not a full parser: expressions stay
// token ranges; only what the handler scan needs to know what a module binds is built.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "python/python_tokenizer.h"

namespace smpack {

// A half-open range [begin, end) of tokens.
struct TokenRange {
  std::size_t begin = 0;
  std::size_t end = 0;
  std::size_t size() const { return end - begin; }
  bool empty() const { return end <= begin; }
};

struct PyStatement {
  // A simple statement (no ';'), or a compound statement's header without its ':'.
  TokenRange tokens;
  bool compound = false;
  std::vector<PyStatement> body;  // the suite: inline after ':' or the indented block
};

struct PyStructureError {
  int line = 0;
  int column = 0;
  std::string message;
};

struct PyModuleStructure {
  std::vector<PyStatement> statements;
  // The first structural error (unexpected indent, missing block or ':'); the statements
  // before it are kept.
  std::optional<PyStructureError> error;
};

// Groups `tokens` (tokenize_python's output, ending with an end_marker) into statements.
// Never fails as a call; recursion is bounded by the tokenizer's indentation cap.
PyModuleStructure parse_python_structure(const std::vector<Token>& tokens);

// Token predicates and top-level searches over one statement's tokens.
class TokenView {
 public:
  explicit TokenView(const std::vector<Token>& tokens) : tokens_(tokens) {}

  const Token& at(std::size_t index) const { return tokens_[index]; }
  bool is_op(std::size_t index, std::string_view op) const {
    return index < tokens_.size() && tokens_[index].kind == TokenKind::op &&
           tokens_[index].text == op;
  }
  bool is_name(std::size_t index, std::string_view name) const {
    return index < tokens_.size() && tokens_[index].kind == TokenKind::name &&
           tokens_[index].text == name;
  }
  bool is_kind(std::size_t index, TokenKind kind) const {
    return index < tokens_.size() && tokens_[index].kind == kind;
  }

  // Positions of `op` in `range` that are outside brackets and not part of a lambda's
  // parameter list (so `f = lambda x=1: x` has one top-level '=', and the ':' of the
  // lambda is not a top-level ':').
  std::vector<std::size_t> find_top_level(TokenRange range, std::string_view op) const;
  // The first such position, or range.end.
  std::size_t find_first_top_level(TokenRange range, std::string_view op) const;
  // `range` split at its top-level commas; a trailing comma adds no empty part.
  std::vector<TokenRange> split_top_level(TokenRange range, std::string_view separator) const;
  // The index of the bracket closing the one at `open`, or npos when not inside `range`.
  std::size_t matching_bracket(std::size_t open, std::size_t range_end) const;
  // Strips one pair of brackets when they enclose the whole range.
  TokenRange strip_enclosing(TokenRange range, std::string_view open, std::string_view close) const;

 private:
  const std::vector<Token>& tokens_;
};

}  // namespace smpack
