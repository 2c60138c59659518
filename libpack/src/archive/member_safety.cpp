#include "archive/member_safety.h"

namespace smpack {

MemberSafety judge_member(const MemberPath& path, EntryType type, std::string_view link_target) {
  switch (path.problem) {
    case PathProblem::none:
    case PathProblem::root_member:
      break;
    case PathProblem::absolute:
      return {UnsafeMember::absolute_path, std::string(describe(path.problem))};
    case PathProblem::parent_ref:
      return {UnsafeMember::parent_ref, std::string(describe(path.problem))};
    case PathProblem::empty:
    case PathProblem::nul_byte:
    case PathProblem::too_long:
      return {UnsafeMember::bad_name, std::string(describe(path.problem))};
  }
  switch (type) {
    case EntryType::char_device:
    case EntryType::block_device:
    case EntryType::fifo:
    case EntryType::socket:
    case EntryType::other:
      return {UnsafeMember::special_file,
              "is a " + std::string(name_of(type)) + ", which is never extracted"};
    case EntryType::symlink:
      if (!resolve_symlink_target(path.normalized, link_target).inside_root) {
        return {UnsafeMember::link_escape,
                "is a symlink to '" + std::string(link_target) + "', outside the destination"};
      }
      break;
    case EntryType::hardlink:
      if (!resolve_hardlink_target(link_target).inside_root) {
        return {UnsafeMember::link_escape,
                "is a hardlink to '" + std::string(link_target) + "', outside the destination"};
      }
      break;
    default:
      break;
  }
  return {};
}

}  // namespace smpack
