#include "smpack/artifact_manifest.h"

#include <map>

#include "io/file_io.h"
#include "smpack/archive_scan.h"
#include "smpack/digest.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

Result<std::string> hash_file(const fs::path& path) {
  auto file = InputFile::open(path);
  if (!file) return std::move(file).error();
  Hasher sha;
  std::vector<std::byte> buffer(1 << 20);
  for (;;) {
    auto got = file->read(buffer);
    if (!got) return std::move(got).error();
    if (*got == 0) break;
    sha.update(std::span<const std::byte>(buffer.data(), *got));
  }
  return sha.finish_hex();
}

Result<Manifest> manifest_of_directory(const fs::path& root) {
  Manifest m;
  std::error_code ec;
  fs::recursive_directory_iterator it(root, ec), end;
  if (ec) return Error::io(root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error::io(root.string() + ": " + ec.message());
    ManifestEntry e;
    e.path = it->path().lexically_relative(root).generic_string();
    auto status = it->symlink_status(ec);
    e.mode = static_cast<std::uint32_t>(status.permissions()) & 07777u;
    if (status.type() == fs::file_type::directory) {
      e.type = EntryType::directory;
    } else if (status.type() == fs::file_type::regular) {
      e.type = EntryType::file;
      e.size = it->file_size(ec);
      auto sha = hash_file(it->path());
      if (!sha) return std::move(sha).error();
      e.sha256 = std::move(*sha);
    } else {
      continue;
    }
    m.entries.push_back(std::move(e));
  }
  m.content_digest = content_digest(m.entries);
  return m;
}

}  // namespace

Result<Manifest> manifest_of(const fs::path& archive_or_dir, const ReadLimits& limits) {
  std::error_code ec;
  if (fs::is_directory(archive_or_dir, ec)) return manifest_of_directory(archive_or_dir);
  auto index = read_archive_index(archive_or_dir);
  if (!index) return std::move(index).error();
  if (*index) {
    Manifest m;
    m.entries = (*index)->manifest_entries();
    m.content_digest = content_digest(m.entries);
    m.archive_bytes = (*index)->file_bytes;
    return m;
  }
  ScanOptions options;
  options.limits = limits;
  auto scan = scan_archive(archive_or_dir, options);
  if (!scan) return std::move(scan).error();
  return scan->manifest();
}

ManifestDiff diff_manifests(const Manifest& before, const Manifest& after) {
  ManifestDiff diff;
  std::map<std::string, const ManifestEntry*> old_entries, new_entries;
  for (const auto& e : before.entries) old_entries[e.path] = &e;
  for (const auto& e : after.entries) new_entries[e.path] = &e;
  for (const auto& [path, old_entry] : old_entries) {
    auto it = new_entries.find(path);
    if (it == new_entries.end()) {
      diff.removed.push_back(path);
      continue;
    }
    const ManifestEntry& now = *it->second;
    if (now.type != old_entry->type || now.size != old_entry->size ||
        now.sha256 != old_entry->sha256) {
      diff.content_changed.push_back(path);
    }
    if (now.mode != old_entry->mode) diff.mode_changed.push_back({path, old_entry->mode, now.mode});
  }
  for (const auto& [path, entry] : new_entries) {
    if (!old_entries.count(path)) diff.added.push_back(path);
  }
  return diff;
}

}  // namespace smpack
