// Statement structure of a tokenized Python module.
#include "python/python_statements.h"

#include <algorithm>
#include <array>

namespace smpack {
namespace {

bool is_open_bracket(const Token& token) {
  return token.kind == TokenKind::op &&
         (token.text == "(" || token.text == "[" || token.text == "{");
}
bool is_close_bracket(const Token& token) {
  return token.kind == TokenKind::op &&
         (token.text == ")" || token.text == "]" || token.text == "}");
}

class StructureParser {
 public:
  explicit StructureParser(const std::vector<Token>& tokens) : tokens_(tokens), view_(tokens) {}

  PyModuleStructure run() {
    PyModuleStructure structure;
    structure.statements = parse_block();
    if (!error_ && !view_.is_kind(next_, TokenKind::end_marker) && next_ < tokens_.size()) {
      fail(tokens_[next_], "unexpected unindent");
    }
    structure.error = std::move(error_);
    return structure;
  }

 private:
  TokenKind kind_at(std::size_t index) const {
    return index < tokens_.size() ? tokens_[index].kind : TokenKind::end_marker;
  }
  void fail(const Token& where, std::string message) {
    if (!error_) error_ = PyStructureError{where.line, where.column, std::move(message)};
  }

  std::vector<PyStatement> parse_block() {
    std::vector<PyStatement> statements;
    while (!error_) {
      const TokenKind kind = kind_at(next_);
      if (kind == TokenKind::end_marker || kind == TokenKind::dedent) break;
      if (kind == TokenKind::indent) {
        fail(tokens_[next_], "unexpected indent");
        break;
      }
      if (kind == TokenKind::newline) {
        ++next_;
        continue;
      }
      parse_line(statements);
    }
    return statements;
  }

  // Compound statements start with a keyword; `match`/`case` are soft keywords, compound
  // only when their line ends with ':'.
  bool is_compound_header(TokenRange line) const {
    static constexpr std::array<std::string_view, 12> kKeywords = {
        "if",     "elif",    "else", "while", "for",   "try",
        "except", "finally", "with", "def",   "class", "async"};
    const Token& first = tokens_[line.begin];
    if (first.kind != TokenKind::name) return false;
    if (std::find(kKeywords.begin(), kKeywords.end(), first.text) != kKeywords.end()) {
      return true;
    }
    return (first.text == "match" || first.text == "case") && line.size() > 1 &&
           view_.is_op(line.end - 1, ":");
  }

  static std::string block_description(const Token& keyword, const Token& after) {
    if (keyword.text == "def" || (keyword.text == "async" && after.text == "def")) {
      return "function definition";
    }
    if (keyword.text == "class") return "class definition";
    return "'" + keyword.text + "' statement";
  }

  void parse_line(std::vector<PyStatement>& statements) {
    const std::size_t begin = next_;
    std::size_t end = begin;
    while (kind_at(end) != TokenKind::newline && kind_at(end) != TokenKind::end_marker) ++end;
    const std::size_t after_line = kind_at(end) == TokenKind::newline ? end + 1 : end;
    const TokenRange line{begin, end};
    if (!is_compound_header(line)) {
      split_simple(line, statements);
      next_ = after_line;
      return;
    }
    const std::size_t colon = view_.find_first_top_level(line, ":");
    if (colon == end) {
      fail(tokens_[end - 1], "expected ':'");
      next_ = after_line;
      return;
    }
    PyStatement statement{{begin, colon}, true, {}};
    next_ = after_line;
    if (colon + 1 < end) {
      split_simple({colon + 1, end}, statement.body);
    } else if (kind_at(next_) != TokenKind::indent) {
      const Token& where = next_ < tokens_.size() ? tokens_[next_] : tokens_.back();
      fail(where, "expected an indented block after " +
                      block_description(tokens_[begin], tokens_[std::min(begin + 1, end)]) +
                      " on line " + std::to_string(tokens_[begin].line));
      return;
    } else {
      ++next_;
      statement.body = parse_block();
      if (kind_at(next_) == TokenKind::dedent) ++next_;
    }
    statements.push_back(std::move(statement));
  }

  void split_simple(TokenRange line, std::vector<PyStatement>& statements) const {
    for (TokenRange part : view_.split_top_level(line, ";")) {
      if (!part.empty()) statements.push_back(PyStatement{part, false, {}});
    }
  }

  const std::vector<Token>& tokens_;
  TokenView view_;
  std::size_t next_ = 0;
  std::optional<PyStructureError> error_;
};

}  // namespace

PyModuleStructure parse_python_structure(const std::vector<Token>& tokens) {
  return StructureParser(tokens).run();
}

std::vector<std::size_t> TokenView::find_top_level(TokenRange range, std::string_view op) const {
  std::vector<std::size_t> found;
  int depth = 0;
  int open_lambdas = 0;  // lambdas at depth 0 whose ':' is still ahead
  for (std::size_t i = range.begin; i < range.end && i < tokens_.size(); ++i) {
    const Token& token = tokens_[i];
    if (is_open_bracket(token)) {
      ++depth;
    } else if (is_close_bracket(token)) {
      depth = std::max(0, depth - 1);
    } else if (depth == 0) {
      if (token.kind == TokenKind::name && token.text == "lambda") {
        ++open_lambdas;
      } else if (open_lambdas > 0) {
        if (token.kind == TokenKind::op && token.text == ":") --open_lambdas;
      } else if (token.kind == TokenKind::op && token.text == op) {
        found.push_back(i);
      }
    }
  }
  return found;
}

std::size_t TokenView::find_first_top_level(TokenRange range, std::string_view op) const {
  const std::vector<std::size_t> found = find_top_level(range, op);
  return found.empty() ? range.end : found.front();
}

std::vector<TokenRange> TokenView::split_top_level(TokenRange range,
                                                   std::string_view separator) const {
  std::vector<TokenRange> parts;
  std::size_t start = range.begin;
  for (std::size_t position : find_top_level(range, separator)) {
    parts.push_back({start, position});
    start = position + 1;
  }
  if (start < range.end || parts.empty()) parts.push_back({start, range.end});
  return parts;
}

std::size_t TokenView::matching_bracket(std::size_t open, std::size_t range_end) const {
  int depth = 0;
  for (std::size_t i = open; i < range_end && i < tokens_.size(); ++i) {
    if (is_open_bracket(tokens_[i])) {
      ++depth;
    } else if (is_close_bracket(tokens_[i]) && --depth == 0) {
      return i;
    }
  }
  return std::string_view::npos;
}

TokenRange TokenView::strip_enclosing(TokenRange range, std::string_view open,
                                      std::string_view close) const {
  if (range.size() >= 2 && is_op(range.begin, open) && is_op(range.end - 1, close) &&
      matching_bracket(range.begin, range.end) == range.end - 1) {
    return {range.begin + 1, range.end - 1};
  }
  return range;
}

}  // namespace smpack
