#include "python/python_tokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "python/python_identifier.h"

namespace smpack {
namespace {

// The tokens as "kind:text" strings (NEWLINE, INDENT, DEDENT, END spelled out).
std::vector<std::string> spell(const TokenizeResult& result) {
  std::vector<std::string> out;
  for (const Token& token : result.tokens) {
    switch (token.kind) {
      case TokenKind::newline:
        out.push_back("NEWLINE");
        break;
      case TokenKind::indent:
        out.push_back("INDENT");
        break;
      case TokenKind::dedent:
        out.push_back("DEDENT");
        break;
      case TokenKind::end_marker:
        out.push_back("END");
        break;
      default:
        out.push_back(token.text);
    }
  }
  return out;
}

const Token& find_token(const TokenizeResult& result, const std::string& text) {
  for (const Token& token : result.tokens) {
    if (token.text == text) return token;
  }
  static const Token kMissing{};
  ADD_FAILURE() << "no token " << text;
  return kMissing;
}

TEST(PythonTokenizer, SplitsADefWithLinesAndColumns) {
  const TokenizeResult result = tokenize_python("def f(a, b=1):\n    return a\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(spell(result),
            (std::vector<std::string>{"def", "f", "(", "a", ",", "b", "=", "1", ")", ":", "NEWLINE",
                                      "INDENT", "return", "a", "NEWLINE", "DEDENT", "END"}));
  EXPECT_EQ(find_token(result, "return").line, 2);
  EXPECT_EQ(find_token(result, "return").column, 5);
  EXPECT_EQ(find_token(result, "b").column, 10);
}

TEST(PythonTokenizer, NewlinesInsideBracketsJoinTheLine) {
  const TokenizeResult result = tokenize_python("x = {\n  1: 2,\n}\ny = (\n3)\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(spell(result),
            (std::vector<std::string>{"x", "=", "{", "1", ":", "2", ",", "}", "NEWLINE", "y", "=",
                                      "(", "3", ")", "NEWLINE", "END"}));
}

TEST(PythonTokenizer, BackslashContinuesTheLine) {
  const TokenizeResult result = tokenize_python("x = \\\n  1\ny = 2\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(spell(result),
            (std::vector<std::string>{"x", "=", "1", "NEWLINE", "y", "=", "2", "NEWLINE", "END"}));
  EXPECT_EQ(find_token(result, "y").line, 3);
}

TEST(PythonTokenizer, BackslashBeforeOtherTextIsAnError) {
  const TokenizeResult result = tokenize_python("x = 1 \\ + 2\n");
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->message, "unexpected character after line continuation character");
  EXPECT_EQ(result.error->line, 1);
}

TEST(PythonTokenizer, CrLfAndCrNewlinesCountLines) {
  for (const std::string newline : {"\r\n", "\r", "\n"}) {
    const TokenizeResult result =
        tokenize_python("a = 1" + newline + newline + "def f():" + newline + "  pass" + newline);
    ASSERT_FALSE(result.error) << result.error->message;
    EXPECT_EQ(find_token(result, "def").line, 3);
    EXPECT_EQ(find_token(result, "pass").line, 4);
    EXPECT_EQ(find_token(result, "pass").column, 3);
  }
}

TEST(PythonTokenizer, SkipsAUtf8Bom) {
  const TokenizeResult result = tokenize_python(
      "\xEF\xBB\xBF"
      "def f(): pass\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.tokens.front().text, "def");
  EXPECT_EQ(result.tokens.front().column, 1);
}

TEST(PythonTokenizer, TabsIndentToTheNextMultipleOfEight) {
  // A tab then 8 spaces is column 16 whichever way it is written; consistent use is fine.
  const TokenizeResult ok = tokenize_python("if x:\n\tif y:\n\t\tpass\n");
  EXPECT_FALSE(ok.error);
  const TokenizeResult mixed = tokenize_python("if x:\n\ty = 1\n        z = 2\n");
  ASSERT_TRUE(mixed.error);
  EXPECT_EQ(mixed.error->message, "inconsistent use of tabs and spaces in indentation");
  EXPECT_EQ(mixed.error->line, 3);
}

TEST(PythonTokenizer, BadDedentIsAnError) {
  const TokenizeResult result = tokenize_python("def f():\n        x = 1\n    return x\n");
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->kind, TokenizeErrorKind::syntax_error);
  EXPECT_EQ(result.error->message, "unindent does not match any outer indentation level");
  EXPECT_EQ(result.error->line, 3);
}

TEST(PythonTokenizer, CommentAndBlankLinesDoNotIndent) {
  const TokenizeResult result = tokenize_python("def f():\n\n        # deep comment\n    pass\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(spell(result), (std::vector<std::string>{"def", "f", "(", ")", ":", "NEWLINE", "INDENT",
                                                     "pass", "NEWLINE", "DEDENT", "END"}));
}

TEST(PythonTokenizer, StringPrefixesInAnyCase) {
  const TokenizeResult result =
      tokenize_python("a = rB'x' + Fr\"{a}\" + U'u' + bR\"\\\"\" + rf'''x\n'''\n");
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(spell(result),
            (std::vector<std::string>{"a", "=", "rB'x'", "+", "Fr\"{a}\"", "+", "U'u'", "+",
                                      "bR\"\\\"\"", "+", "rf'''x\n'''", "NEWLINE", "END"}));
}

TEST(PythonTokenizer, TripleQuotedStringsSpanLines) {
  const TokenizeResult result = tokenize_python("s = '''a\n'b'\n\"\"\"'''\nx = 1\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(find_token(result, "x").line, 4);
}

TEST(PythonTokenizer, FStringFieldsHoldNestedQuotesBracesAndSpecs) {
  const std::string f311 = "f\"{x!r:>{width}} {{lit}} {d['k']} {f'{y}'} {(lambda: 1)()}\"";
  const TokenizeResult result = tokenize_python("s = " + f311 + "\n");
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(result.tokens[2].text, f311);
  // Python 3.12: the same quote inside a replacement field does not end the string.
  const std::string f312 = "f\"{d[\"k\"]} {\"a\" + \"b\"}\"";
  const TokenizeResult nested = tokenize_python("s = " + f312 + "\n");
  ASSERT_FALSE(nested.error) << nested.error->message;
  EXPECT_EQ(nested.tokens[2].text, f312);
}

TEST(PythonTokenizer, FStringEscapesAroundBraces) {
  EXPECT_FALSE(tokenize_python("s = f'\\N{EM DASH} {x}'\n").error);
  EXPECT_FALSE(tokenize_python("s = rf'\\{x}'\n").error);
  const TokenizeResult single = tokenize_python("s = f'a } b'\n");
  ASSERT_TRUE(single.error);
  EXPECT_EQ(single.error->message, "f-string: single '}' is not allowed");
}

TEST(PythonTokenizer, UnterminatedStringsReportWhereTheyStart) {
  const TokenizeResult single = tokenize_python("x = 1\ny = 'abc\nz = 2\n");
  ASSERT_TRUE(single.error);
  EXPECT_EQ(single.error->line, 2);
  EXPECT_EQ(single.error->column, 5);
  EXPECT_EQ(single.error->message, "unterminated string literal (detected at line 2)");
  const TokenizeResult triple = tokenize_python("x = '''abc\n\n");
  ASSERT_TRUE(triple.error);
  EXPECT_EQ(triple.error->line, 1);
  EXPECT_EQ(triple.error->message,
            "unterminated triple-quoted string literal (detected at line 3)");
}

TEST(PythonTokenizer, BracketErrors) {
  const TokenizeResult unmatched = tokenize_python("x = 1)\n");
  ASSERT_TRUE(unmatched.error);
  EXPECT_EQ(unmatched.error->message, "unmatched ')'");
  EXPECT_EQ(unmatched.error->column, 6);
  const TokenizeResult mismatch = tokenize_python("x = [1,\n 2)\n");
  ASSERT_TRUE(mismatch.error);
  EXPECT_EQ(mismatch.error->message,
            "closing parenthesis ')' does not match opening parenthesis '[' on line 1");
  EXPECT_EQ(mismatch.error->line, 2);
  const TokenizeResult unclosed = tokenize_python("x = 1\ny = (2,\n");
  ASSERT_TRUE(unclosed.error);
  EXPECT_EQ(unclosed.error->message, "'(' was never closed");
  EXPECT_EQ(unclosed.error->line, 2);
  EXPECT_EQ(unclosed.error->column, 5);
}

TEST(PythonTokenizer, Python2FormsAreReportedAsSuch) {
  for (const char* source :
       {"x = `1`\n", "if 1 <> 2: pass\n", "m = 0777\n", "n = 10L\n", "s = ur'x'\n"}) {
    const TokenizeResult result = tokenize_python(source);
    ASSERT_TRUE(result.error) << source;
    EXPECT_EQ(result.error->kind, TokenizeErrorKind::python2_syntax) << source;
    EXPECT_EQ(result.error->line, 1);
  }
}

TEST(PythonTokenizer, NumbersThatArePython3) {
  const TokenizeResult result =
      tokenize_python("v = [0, 00, 0_0, 1_000, 0x_FF, 0o17, 0b1, 1.5e-3, .5, 5., 1j, 0777.5]\n");
  ASSERT_FALSE(result.error) << result.error->message;
  EXPECT_EQ(find_token(result, "0777.5").kind, TokenKind::number);
  EXPECT_EQ(find_token(result, ".5").kind, TokenKind::number);
}

TEST(PythonTokenizer, IdentifiersAreNfkcNormalised) {
  const TokenizeResult result = tokenize_python(
      "def \xEF\xBD\x8D\xEF\xBD\x8F\xEF\xBD\x84\xEF\xBD\x85\xEF\xBD\x8C_fn(): pass\n");
  ASSERT_FALSE(result.error);
  EXPECT_EQ(result.tokens[1].text, "model_fn");
  EXPECT_EQ(result.tokens[2].column, 13);  // columns count code points
}

TEST(PythonIdentifier, NormalisesCompatibilityCharactersToAscii) {
  EXPECT_EQ(normalize_python_identifier("\xEF\xAC\x81le"), "file");         // U+FB01 ﬁ
  EXPECT_EQ(normalize_python_identifier("\xF0\x9D\x90\xA6odel"), "model");  // U+1D426 𝐦
  EXPECT_EQ(normalize_python_identifier("x\xE1\xB5\x83"), "xa");            // U+1D43 ᵃ
  EXPECT_EQ(normalize_python_identifier("\xE2\x84\x8E"
                                        "andler"),
            "handler");                                                  // U+210E ℎ
  EXPECT_EQ(normalize_python_identifier("a\xE2\x82\x90"), "aa");         // U+2090 ₐ
  EXPECT_EQ(normalize_python_identifier("caf\xC3\xA9"), "caf\xC3\xA9");  // kept
  EXPECT_EQ(normalize_python_identifier("bad\xFF"), "bad\xFF");          // kept
}

TEST(PythonTokenizer, RefusesSuperscriptDigitsInIdentifiers) {
  // CPython: "invalid character '²' (U+00B2)", although NFKC would make it "x2".
  const TokenizeResult result = tokenize_python("x\xC2\xB2 = 1\n");
  ASSERT_TRUE(result.error);
  EXPECT_EQ(result.error->column, 2);
  EXPECT_TRUE(is_refused_ascii_lookalike(0x2081));
  EXPECT_FALSE(is_refused_ascii_lookalike(0x1D43));
}

TEST(PythonTokenizer, RefusesTypographicQuotesAndControlCharacters) {
  const TokenizeResult quote = tokenize_python("x = \xE2\x80\x9Chi\xE2\x80\x9D\n");
  ASSERT_TRUE(quote.error);
  EXPECT_EQ(quote.error->column, 5);
  EXPECT_TRUE(tokenize_python(std::string("x = 1\0", 6)).error);
  EXPECT_TRUE(tokenize_python("x = $\n").error);
}

TEST(PythonTokenizer, CapsTokensAndNesting) {
  TokenizeLimits limits;
  limits.max_tokens = 10;
  const TokenizeResult many = tokenize_python("a = 1 + 2 + 3 + 4 + 5 + 6\n", limits);
  ASSERT_TRUE(many.error);
  EXPECT_EQ(many.error->kind, TokenizeErrorKind::limit_exceeded);
  EXPECT_EQ(many.tokens.back().kind, TokenKind::end_marker);

  const TokenizeResult deep = tokenize_python("x = " + std::string(300, '(') + "\n");
  ASSERT_TRUE(deep.error);
  EXPECT_EQ(deep.error->kind, TokenizeErrorKind::limit_exceeded);

  std::string indented;
  for (int level = 0; level < 120; ++level) {
    indented += std::string(static_cast<std::size_t>(level), ' ') + "if x:\n";
  }
  const TokenizeResult indent = tokenize_python(indented + std::string(120, ' ') + "pass\n");
  ASSERT_TRUE(indent.error);
  EXPECT_EQ(indent.error->kind, TokenizeErrorKind::limit_exceeded);
}

TEST(PythonTokenizer, StringTokenBody) {
  EXPECT_EQ(string_token_body("'abc'"), "abc");
  EXPECT_EQ(string_token_body("rb\"\"\"x\"\"\""), "x");
  EXPECT_EQ(string_token_body("''"), "");
  EXPECT_EQ(string_token_body("name"), "");
}

}  // namespace
}  // namespace smpack
