#include "smpack/escape.h"

#include <gtest/gtest.h>

namespace smpack {
namespace {

TEST(Escape, ControlBytesBackslashAndDelBecomeHex) {
  EXPECT_EQ(escape_for_terminal("a\x1b]0;owned\x07"
                                "b"),
            "a\\x1b]0;owned\\x07b");
  EXPECT_EQ(escape_for_terminal("line\nforged: ok"), "line\\x0aforged: ok");
  EXPECT_EQ(escape_for_terminal("back\\slash"), "back\\x5cslash");
  EXPECT_EQ(escape_for_terminal(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(escape_for_terminal("del\x7f"), "del\\x7f");
}

TEST(Escape, ValidUtf8IsKeptInvalidUtf8IsNot) {
  EXPECT_EQ(escape_for_terminal("caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80"),
            "caf\xc3\xa9 \xe6\x97\xa5 \xf0\x9f\x98\x80");
  EXPECT_EQ(escape_for_terminal("\xc3"), "\\xc3");                             // cut short
  EXPECT_EQ(escape_for_terminal("\xc0\xaf"), "\\xc0\\xaf");                    // overlong '/'
  EXPECT_EQ(escape_for_terminal("\xed\xa0\x80"), "\\xed\\xa0\\x80");           // a surrogate
  EXPECT_EQ(escape_for_terminal("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80");  // past U+10FFFF
  EXPECT_EQ(escape_for_terminal("\xe2\x80"), "\\xe2\\x80");
  // CSI as a bare 8-bit byte (not UTF-8) and as the C1 control U+009B in UTF-8.
  EXPECT_EQ(escape_for_terminal("\x9b[2J"), "\\x9b[2J");
  EXPECT_EQ(escape_for_terminal("\xc2\x9b[2J"), "\\xc2\\x9b[2J");
  EXPECT_EQ(escape_for_terminal("\xc2\xa0"), "\xc2\xa0");  // U+00A0 is printable
}

}  // namespace
}  // namespace smpack
