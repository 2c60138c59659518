// What a safe extractor decides from the tar headers: the member's name, type and link
// target, and (MemberJudge) what the symlinks of earlier members make of them. `extract`
// and the lint rules share it, so the two never disagree; the checks that need the disk
// (a symlink already there, a hard link to a file that was not extracted) are extract's.
#pragma once

#include <set>
#include <string>
#include <string_view>

#include "smpack/entry.h"
#include "smpack/member_path.h"

namespace smpack {

enum class UnsafeMember {
  none,
  bad_name,            // empty, a NUL byte, longer than the name cap
  absolute_path,       // also Windows drive and UNC paths
  parent_ref,          // a ".." component
  link_escape,         // a symlink or hard link that resolves outside the root, or may: its
                       // target walks through a symlink an earlier member made
  write_through_link,  // below a symlink an earlier member made
  special_file,        // a device, FIFO, socket or unknown type
};

struct MemberSafety {
  UnsafeMember kind = UnsafeMember::none;
  std::string reason;  // "is a symlink to '/etc', outside the destination"; "" when safe
};

// `path` is check_member_path(stored name); the archive-root member is safe.
MemberSafety judge_member(const MemberPath& path, EntryType type, std::string_view link_target);

// judge_member for each member of one archive, in order, with the symlinks the members
// before it made: a member below one is written through it, and a link whose target walks
// through one lands wherever that link points (`s -> .` then `e -> s/s/../../x` stays
// inside by its name and leaves the root on disk), so both are unsafe; so are a symlink
// made later where an accepted target walked, and a hard link to a symlink member.
class MemberJudge {
 public:
  MemberSafety judge(const MemberPath& path, EntryType type, std::string_view link_target);

 private:
  // The symlink member that `target`, walked from the folder `base`, passes through before
  // its last component, or "". `record`: remember the folders it walks through.
  std::string symlink_on(std::string_view base, std::string_view target, bool record);

  std::set<std::string, std::less<>> symlinks_;
  std::set<std::string, std::less<>> walked_;  // folders accepted link targets walk through
};

// setuid, setgid or sticky: extractors drop them (extract, tarfile's data filter).
inline bool has_special_mode_bits(std::uint32_t mode) {
  return (mode & 07000u) != 0;
}

}  // namespace smpack
