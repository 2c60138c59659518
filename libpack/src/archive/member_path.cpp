#include "smpack/member_path.h"

#include <vector>

namespace smpack {
namespace {

bool is_separator(char c) {
  return c == '/' || c == '\\';
}

std::vector<std::string_view> split_components(std::string_view path) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || is_separator(path[i])) {
      if (i > start) parts.push_back(path.substr(start, i - start));
      start = i + 1;
    }
  }
  return parts;
}

bool is_windows_absolute(std::string_view path) {
  bool drive = path.size() >= 2 && path[1] == ':' &&
               ((path[0] >= 'a' && path[0] <= 'z') || (path[0] >= 'A' && path[0] <= 'Z'));
  return drive || (path.size() >= 2 && is_separator(path[0]) && is_separator(path[1]));
}

// Resolves "." and ".." of `components` against a root-relative stack; false if
// the walk ever goes above the root.
bool push_components(std::vector<std::string_view>& stack,
                     const std::vector<std::string_view>& components) {
  for (auto part : components) {
    if (part == ".") continue;
    if (part == "..") {
      if (stack.empty()) return false;
      stack.pop_back();
      continue;
    }
    stack.push_back(part);
  }
  return true;
}

std::string join(const std::vector<std::string_view>& parts) {
  std::string out;
  for (auto part : parts) {
    if (!out.empty()) out += '/';
    out += part;
  }
  return out;
}

}  // namespace

std::string_view describe(PathProblem problem) {
  switch (problem) {
    case PathProblem::none:
      return "ok";
    case PathProblem::empty:
      return "the name is empty";
    case PathProblem::absolute:
      return "the path is absolute";
    case PathProblem::parent_ref:
      return "the path contains a '..' component";
    case PathProblem::nul_byte:
      return "the name contains a NUL byte";
    case PathProblem::too_long:
      return "the name is too long";
    case PathProblem::root_member:
      return "a member for the archive root itself";
  }
  return "unknown";
}

MemberPath check_member_path(std::string_view stored, std::size_t max_bytes) {
  MemberPath result;
  if (stored.empty()) {
    result.problem = PathProblem::empty;
    return result;
  }
  if (stored.size() > max_bytes) {
    result.problem = PathProblem::too_long;
    return result;
  }
  if (stored.find('\0') != std::string_view::npos) {
    result.problem = PathProblem::nul_byte;
    return result;
  }
  auto components = split_components(stored);
  std::vector<std::string_view> kept;
  bool parent = false;
  for (auto part : components) {
    if (part == ".") continue;
    if (part == "..") parent = true;
    kept.push_back(part);
  }
  result.normalized = join(kept);
  if (is_separator(stored.front()) || is_windows_absolute(stored)) {
    // "/" alone is the SDK repack's root member: absolute, but it names nothing.
    result.problem = kept.empty() ? PathProblem::root_member : PathProblem::absolute;
  } else if (parent) {
    result.problem = PathProblem::parent_ref;
  } else if (kept.empty()) {
    result.problem = PathProblem::root_member;
  }
  return result;
}

LinkResolution resolve_symlink_target(std::string_view link_member, std::string_view target) {
  if (target.empty() || is_separator(target.front()) || is_windows_absolute(target)) return {};
  auto stack = split_components(link_member);
  if (!stack.empty()) stack.pop_back();  // a symlink resolves from its own directory
  if (!push_components(stack, split_components(target))) return {};
  return {true, join(stack)};
}

LinkResolution resolve_hardlink_target(std::string_view target) {
  if (target.empty() || is_separator(target.front()) || is_windows_absolute(target)) return {};
  std::vector<std::string_view> stack;
  if (!push_components(stack, split_components(target))) return {};
  return {true, join(stack)};
}

}  // namespace smpack
