#include "artifact/directory_walk.h"

#include <algorithm>

#include "smpack/archive_writer.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

EntryType type_of(fs::file_type type) {
  switch (type) {
    case fs::file_type::directory:
      return EntryType::directory;
    case fs::file_type::symlink:
      return EntryType::symlink;
    case fs::file_type::regular:
      return EntryType::file;
    case fs::file_type::fifo:
      return EntryType::fifo;
    case fs::file_type::socket:
      return EntryType::socket;
    case fs::file_type::character:
      return EntryType::char_device;
    case fs::file_type::block:
      return EntryType::block_device;
    default:
      return EntryType::other;
  }
}

}  // namespace

Result<std::vector<Member>> walk_directory(const fs::path& root, std::uint64_t max_entries,
                                           const CancelToken* cancel) {
  std::vector<Member> walked;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return Error::io(root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error::io(root.string() + ": " + ec.message());
    if (cancel && cancel->cancelled()) return Error::interrupted();
    if (walked.size() >= max_entries) {
      return Error::bad_input(root.string() + ": more than " + std::to_string(max_entries) +
                              " files");
    }
    Member member;
    member.path = member.stored_path = it->path().lexically_relative(root).generic_string();
    const auto status = it->symlink_status(ec);
    member.type = type_of(status.type());
    member.mode = static_cast<std::uint32_t>(status.permissions()) & 07777u;
    if (member.type == EntryType::symlink) {
      member.link_target = fs::read_symlink(it->path(), ec).generic_string();
    } else if (member.type == EntryType::file) {
      member.size = it->file_size(ec);
    }
    walked.push_back(std::move(member));
  }
  std::sort(walked.begin(), walked.end(),
            [](const Member& a, const Member& b) { return canonical_order(a.path, b.path); });
  return walked;
}

}  // namespace smpack
