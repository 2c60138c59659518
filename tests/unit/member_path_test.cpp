#include "smpack/member_path.h"

#include <gtest/gtest.h>

namespace smpack {
namespace {

TEST(MemberPath, NormalisesDotSlashAndRepeatedSeparators) {
  auto p = check_member_path("./code//inference.py");
  EXPECT_EQ(p.problem, PathProblem::none);
  EXPECT_EQ(p.normalized, "code/inference.py");
  EXPECT_EQ(check_member_path("code/").normalized, "code");
}

TEST(MemberPath, FlagsAbsoluteAndWindowsForms) {
  EXPECT_EQ(check_member_path("/etc/passwd").problem, PathProblem::absolute);
  EXPECT_EQ(check_member_path("C:\\Windows\\x").problem, PathProblem::absolute);
  EXPECT_EQ(check_member_path("\\\\server\\share\\x").problem, PathProblem::absolute);
}

TEST(MemberPath, FlagsParentComponentsAnywhere) {
  EXPECT_EQ(check_member_path("../x").problem, PathProblem::parent_ref);
  EXPECT_EQ(check_member_path("a/../../x").problem, PathProblem::parent_ref);
  EXPECT_EQ(check_member_path("a\\..\\x").problem, PathProblem::parent_ref);
  // A name that merely contains dots is fine.
  EXPECT_EQ(check_member_path("a/..b/x..").problem, PathProblem::none);
}

TEST(MemberPath, RootMemberOfTheSdkRepackIsRecognised) {
  EXPECT_EQ(check_member_path("/").problem, PathProblem::root_member);
  EXPECT_EQ(check_member_path("./").problem, PathProblem::root_member);
  EXPECT_EQ(check_member_path(".").problem, PathProblem::root_member);
}

TEST(MemberPath, RejectsEmptyNulAndOverlongNames) {
  EXPECT_EQ(check_member_path("").problem, PathProblem::empty);
  EXPECT_EQ(check_member_path(std::string_view("a\0b", 3)).problem, PathProblem::nul_byte);
  EXPECT_EQ(check_member_path(std::string(5000, 'a')).problem, PathProblem::too_long);
}

TEST(MemberPath, SymlinkTargetsResolveFromTheLinkDirectory) {
  auto inside = resolve_symlink_target("code/lib/link", "../inference.py");
  EXPECT_TRUE(inside.inside_root);
  EXPECT_EQ(inside.resolved, "code/inference.py");
  EXPECT_FALSE(resolve_symlink_target("code/link", "../../etc/passwd").inside_root);
  EXPECT_FALSE(resolve_symlink_target("link", "/etc/passwd").inside_root);
  // "/tmp/extract-evil" is not inside "/tmp/extract": components, not prefixes.
  EXPECT_FALSE(resolve_symlink_target("a", "../extract-evil").inside_root);
}

TEST(MemberPath, HardlinkTargetsAreRootRelative) {
  EXPECT_TRUE(resolve_hardlink_target("weights/model.pt").inside_root);
  EXPECT_FALSE(resolve_hardlink_target("../x").inside_root);
  EXPECT_FALSE(resolve_hardlink_target("/x").inside_root);
}

}  // namespace
}  // namespace smpack
