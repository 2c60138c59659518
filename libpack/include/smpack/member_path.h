// Judges a member name the way a safe extractor must: the union of libarchive's
// secure-extract flags and Python's tarfile "data" filter (PEP 706).
#pragma once

#include <string>
#include <string_view>

namespace smpack {

enum class PathProblem {
  none,
  empty,
  absolute,    // "/etc/passwd", and Windows "C:\x", "\\server\share"
  parent_ref,  // a ".." component
  nul_byte,
  too_long,
  root_member,  // "/" or "." alone: harmless, but the SDK's repack writes one
};

std::string_view describe(PathProblem problem);

struct MemberPath {
  std::string normalized;  // "./a//b/" -> "a/b"; "" for the root member
  PathProblem problem = PathProblem::none;
};

// Normalises a stored name: strips "./" and repeated or trailing "/", and
// reports the first problem found. Backslashes are treated as separators too,
// since an archive made on Windows may use them and extractors there honour them.
MemberPath check_member_path(std::string_view stored, std::size_t max_bytes = 4096);

// Where a link's target resolves, relative to the root, or nullopt-like empty
// string with ok=false when it leaves the root or is absolute. `link_member` is
// the normalised path of the link itself; hardlink targets are root-relative.
struct LinkResolution {
  bool inside_root = false;
  std::string resolved;  // root-relative, normalised
};
LinkResolution resolve_symlink_target(std::string_view link_member, std::string_view target);
LinkResolution resolve_hardlink_target(std::string_view target);

}  // namespace smpack
