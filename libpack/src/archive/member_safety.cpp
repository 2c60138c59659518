#include "archive/member_safety.h"

#include <vector>

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

std::string MemberJudge::symlink_on(std::string_view base, std::string_view target) const {
  std::vector<std::string_view> walk;
  auto push_parts = [&](std::string_view path, bool check) -> std::string {
    std::size_t start = 0;
    while (start <= path.size()) {
      const std::size_t slash = std::min(path.find('/', start), path.size());
      const std::string_view part = path.substr(start, slash - start);
      start = slash + 1;
      if (part.empty() || part == ".") continue;
      if (part == "..") {
        if (!walk.empty()) walk.pop_back();
        continue;
      }
      walk.push_back(part);
      if (!check || start > path.size()) continue;  // the last component may be a link
      std::string joined;
      for (std::string_view p : walk) joined += (joined.empty() ? "" : "/") + std::string(p);
      if (symlinks_.contains(joined)) return joined;
    }
    return "";
  };
  push_parts(base, false);
  return push_parts(target, true);
}

MemberSafety MemberJudge::judge(const MemberPath& path, EntryType type,
                                std::string_view link_target) {
  MemberSafety safety = judge_member(path, type, link_target);
  if (safety.kind == UnsafeMember::none && path.problem == PathProblem::none) {
    if (std::string through = symlink_on("", path.normalized); !through.empty()) {
      safety = {UnsafeMember::write_through_link,
                "would be written through the symlink '" + through + "' an earlier member created"};
    } else if (type == EntryType::symlink || type == EntryType::hardlink) {
      // A symlink's target is relative to its folder; a hard link's to the root.
      std::string_view folder;
      if (const auto slash = path.normalized.rfind('/');
          type == EntryType::symlink && slash != std::string::npos)
        folder = std::string_view(path.normalized).substr(0, slash);
      if (std::string via = symlink_on(folder, link_target); !via.empty()) {
        safety = {UnsafeMember::link_escape,
                  "is a " + std::string(name_of(type)) + " to '" + std::string(link_target) +
                      "', which walks through the symlink '" + via +
                      "' an earlier member created: where it lands depends on that link"};
      }
    }
  }
  if (type == EntryType::symlink && path.problem == PathProblem::none)
    symlinks_.insert(path.normalized);
  return safety;
}

}  // namespace smpack
