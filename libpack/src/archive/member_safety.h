// What a safe extractor decides from a tar header alone: the member's name, type and
// link target. `extract` and the lint rules share it, so the two never disagree; the
// checks that need the disk (writing through a symlink already there, a hard link to a
// file that was not extracted) are extract's own.
#pragma once

#include <string>
#include <string_view>

#include "smpack/entry.h"
#include "smpack/member_path.h"

namespace smpack {

enum class UnsafeMember {
  none,
  bad_name,       // empty, a NUL byte, longer than the name cap
  absolute_path,  // also Windows drive and UNC paths
  parent_ref,     // a ".." component
  link_escape,    // a symlink or hard link that resolves outside the root
  special_file,   // a device, FIFO, socket or unknown type
};

struct MemberSafety {
  UnsafeMember kind = UnsafeMember::none;
  std::string reason;  // "is a symlink to '/etc', outside the destination"; "" when safe
};

// `path` is check_member_path(stored name); the archive-root member is safe.
MemberSafety judge_member(const MemberPath& path, EntryType type, std::string_view link_target);

// setuid, setgid or sticky: extractors drop them (extract, tarfile's data filter).
inline bool has_special_mode_bits(std::uint32_t mode) {
  return (mode & 07000u) != 0;
}

}  // namespace smpack
