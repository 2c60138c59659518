// One member of a tar archive as it is stored, before any safety judgement.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace smpack {

enum class EntryType {
  file,
  directory,
  symlink,
  hardlink,
  char_device,
  block_device,
  fifo,
  socket,
  other,
};

std::string_view name_of(EntryType type);

struct Entry {
  std::string path;  // the name exactly as stored (pax/GNU long names resolved)
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;   // permission bits, setuid/setgid/sticky included
  std::uint64_t size = 0;   // data bytes (0 for everything but regular files)
  std::int64_t mtime = 0;   // seconds since the epoch
  std::string link_target;  // symlinks and hardlinks
  std::int64_t uid = 0;
  std::int64_t gid = 0;
  std::string uname;
  std::string gname;
  bool sparse = false;  // GNU or pax sparse member
  // Tar stream offsets (archives only): the member's first header block (extension
  // headers included) and its data.
  std::uint64_t header_offset = 0;
  std::uint64_t data_offset = 0;
  // What libarchive warned about while reading this member's headers ("" when nothing):
  // it read on where another reader may not have.
  std::string reader_warning;
};

}  // namespace smpack
