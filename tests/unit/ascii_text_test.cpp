#include "util/ascii_text.h"

#include <gtest/gtest.h>

namespace smpack {
namespace {

TEST(AsciiText, LowersOnlyAsciiLetters) {
  EXPECT_EQ(ascii_lower("Content-TYPE"), "content-type");
  EXPECT_EQ(ascii_lower("\xC3\x89T\xC3\xA9"), "\xC3\x89t\xC3\xA9");  // UTF-8 bytes kept
}

TEST(AsciiText, TrimsSpaceAtBothEnds) {
  EXPECT_EQ(trim_space(" \t vllm \r\n"), "vllm");
  EXPECT_EQ(trim_space("a b"), "a b");
  EXPECT_EQ(trim_space(" \t"), "");
}

}  // namespace
}  // namespace smpack
