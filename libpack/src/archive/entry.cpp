#include "smpack/entry.h"

namespace smpack {

std::string_view name_of(EntryType type) {
  switch (type) {
    case EntryType::file:
      return "file";
    case EntryType::directory:
      return "directory";
    case EntryType::symlink:
      return "symlink";
    case EntryType::hardlink:
      return "hardlink";
    case EntryType::char_device:
      return "char-device";
    case EntryType::block_device:
      return "block-device";
    case EntryType::fifo:
      return "fifo";
    case EntryType::socket:
      return "socket";
    case EntryType::other:
      break;
  }
  return "other";
}

}  // namespace smpack
