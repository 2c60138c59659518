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

std::string MemberJudge::symlink_on(std::string_view base, std::string_view target, bool record) {
  std::vector<std::string_view> walk;
  auto joined = [&] {
    std::string path;
    for (std::string_view part : walk) path += (path.empty() ? "" : "/") + std::string(part);
    return path;
  };
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
      std::string prefix = joined();
      if (symlinks_.contains(prefix)) return prefix;
      if (record) walked_.insert(std::move(prefix));
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
    const bool link = type == EntryType::symlink || type == EntryType::hardlink;
    if (std::string through = symlink_on("", path.normalized, false); !through.empty()) {
      safety = {UnsafeMember::write_through_link,
                "would be written through the symlink '" + through + "' an earlier member created"};
    } else if (type == EntryType::symlink && walked_.contains(path.normalized)) {
      // An earlier link's target walks through this folder; as a link it would move it.
      safety = {UnsafeMember::link_escape, "is a symlink where an earlier link's target ('" +
                                               path.normalized +
                                               "/...') walks: it would change where that lands"};
    } else if (type == EntryType::hardlink &&
               symlinks_.contains(resolve_hardlink_target(link_target).resolved)) {
      safety = {UnsafeMember::link_escape,
                "is a hard link to the symlink '" + std::string(link_target) +
                    "': GNU tar makes it a second symlink, smpack extract refuses it"};
    } else if (link) {
      // A symlink's target is relative to its folder; a hard link's to the root.
      std::string_view folder;
      if (const auto slash = path.normalized.rfind('/');
          type == EntryType::symlink && slash != std::string::npos)
        folder = std::string_view(path.normalized).substr(0, slash);
      if (std::string via = symlink_on(folder, link_target, true); !via.empty()) {
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
