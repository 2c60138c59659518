#include "smpack/model_tree.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "io/file_io.h"
#include "smpack/archive_index.h"
#include "smpack/archive_reader.h"
#include "smpack/archive_scan.h"
#include "smpack/digest.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string base_name(std::string_view path) {
  auto slash = path.rfind('/');
  return std::string(slash == std::string_view::npos ? path : path.substr(slash + 1));
}

Result<std::string> read_small_file(const fs::path& path, std::uint64_t max_bytes) {
  auto file = InputFile::open(path);
  if (!file) return std::move(file).error();
  if (file->size() > max_bytes) {
    return Error::bad_input(path.string() + " is " + std::to_string(file->size()) +
                            " bytes, more than the " + std::to_string(max_bytes) +
                            " read into memory");
  }
  std::string data(static_cast<std::size_t>(file->size()), '\0');
  if (auto r = file->read_at(0, std::as_writable_bytes(std::span(data))); !r)
    return std::move(r).error();
  return data;
}

Result<void> load_directory(const fs::path& root, const TreeLoadOptions& options, ModelTree& tree) {
  std::error_code ec;
  fs::recursive_directory_iterator it(root, fs::directory_options::none, ec), end;
  if (ec) return Error::io(root.string() + ": " + ec.message());
  for (; it != end; it.increment(ec)) {
    if (ec) return Error::io(root.string() + ": " + ec.message());
    if (tree.members.size() >= options.limits.max_entries) {
      return Error::bad_input(root.string() + ": more than " +
                              std::to_string(options.limits.max_entries) + " files");
    }
    TreeMember member;
    member.path = member.stored_path = it->path().lexically_relative(root).generic_string();
    auto status = it->symlink_status(ec);
    switch (status.type()) {
      case fs::file_type::directory:
        member.type = EntryType::directory;
        break;
      case fs::file_type::symlink:
        member.type = EntryType::symlink;
        member.link_target = fs::read_symlink(it->path(), ec).generic_string();
        break;
      case fs::file_type::regular:
        member.type = EntryType::file;
        member.size = it->file_size(ec);
        break;
      case fs::file_type::fifo:
        member.type = EntryType::fifo;
        break;
      case fs::file_type::socket:
        member.type = EntryType::socket;
        break;
      case fs::file_type::character:
        member.type = EntryType::char_device;
        break;
      case fs::file_type::block:
        member.type = EntryType::block_device;
        break;
      default:
        member.type = EntryType::other;
        break;
    }
    member.mode = static_cast<std::uint32_t>(status.permissions()) & 07777u;
    if (member.type == EntryType::file && options.keep_content(member.path, member.size) &&
        member.size <= options.max_content_bytes) {
      auto data = read_small_file(it->path(), options.max_content_bytes);
      if (!data) return std::move(data).error();
      member.sha256 = sha256_hex(*data);
      tree.contents[member.path] = std::move(*data);
    }
    if (member.type == EntryType::file && options.weights) {
      auto source = FileByteSource::open(it->path());
      if (!source) return std::move(source).error();
      if (auto r = inventory_weight_file(member.path, *source, options.weights->scan, tree.weights);
          !r)
        return r;
    }
    tree.members.push_back(std::move(member));
  }
  std::sort(
      tree.weights.begin(), tree.weights.end(),
      [](const WeightFileReport& a, const WeightFileReport& b) { return a.member < b.member; });
  // The order `build` stores them in: component by component, so "a/b" sorts with "a".
  auto key = [](std::string path) {
    std::replace(path.begin(), path.end(), '/', '\x01');
    return path;
  };
  std::sort(tree.members.begin(), tree.members.end(),
            [&](const TreeMember& a, const TreeMember& b) { return key(a.path) < key(b.path); });
  return {};
}

Result<void> load_indexed(const fs::path& path, const ArchiveIndex& index,
                          const TreeLoadOptions& options, ModelTree& tree) {
  for (const auto& e : index.entries) {
    TreeMember member;
    member.path = member.stored_path = e.path;
    if (e.type == EntryType::directory) member.stored_path += '/';  // as the tar header has it
    member.type = e.type;
    member.mode = e.mode;
    member.size = e.size;
    member.sha256 = e.sha256;
    if (e.type == EntryType::file && e.size <= options.max_content_bytes &&
        options.keep_content(e.path, e.size)) {
      auto data = read_indexed_entry(path, index, e, options.max_content_bytes);
      if (!data) return std::move(data).error();
      tree.contents[e.path] = std::move(*data);
    }
    if (e.type == EntryType::file && options.weights) {
      auto source = IndexedEntryByteSource::open(path, index, e);
      if (!source) return std::move(source).error();
      if (auto r = inventory_weight_file(e.path, *source, options.weights->scan, tree.weights); !r)
        return r;
    }
    tree.members.push_back(std::move(member));
  }
  return {};
}

}  // namespace

const std::string* ModelTree::content(std::string_view path) const {
  auto it = contents.find(path);
  return it == contents.end() ? nullptr : &it->second;
}

const TreeMember* ModelTree::find(std::string_view path) const {
  for (auto it = members.rbegin(); it != members.rend(); ++it) {
    if (it->path == path) return &*it;
  }
  return nullptr;
}

bool keep_content_by_default(std::string_view path, std::uint64_t) {
  if (path.substr(0, 5) == "code/") return true;
  if (ends_with(path, ".py")) return true;
  std::string name = base_name(path);
  if (name.rfind("requirements", 0) == 0 && ends_with(name, ".txt")) return true;
  return path.find('/') == std::string_view::npos && ends_with(path, ".json");
}

Result<ModelTree> load_model_tree(const fs::path& path, const TreeLoadOptions& options) {
  ModelTree tree;
  tree.display_name = path.string();
  tree.weights_scanned = options.weights.has_value();
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    tree.source = TreeSource::directory;
    if (auto r = load_directory(path, options, tree); !r) return std::move(r).error();
    return tree;
  }
  auto index = read_archive_index(path);
  if (!index) return std::move(index).error();
  if (*index) {
    tree.source = TreeSource::smpack_archive;
    tree.container = ContainerKind::gzip;
    if (auto r = load_indexed(path, **index, options, tree); !r) return std::move(r).error();
    return tree;
  }
  // Any other archive: the one streaming pass that info and verify make too, reading
  // only the kept members and, when asked, the weight files.
  ScanOptions scan_options;
  scan_options.limits = options.limits;
  scan_options.hash_members = false;
  scan_options.keep_content = options.keep_content;
  scan_options.max_content_bytes = options.max_content_bytes;
  scan_options.weights = options.weights;
  auto scan = scan_archive(path, scan_options);
  if (!scan) return std::move(scan).error();
  return scan->tree();
}

namespace {

// The member a caller named, as a normalised path; usage error when the name itself is unsafe.
Result<std::string> wanted_member(std::string_view member_path) {
  auto wanted = check_member_path(member_path);
  if (wanted.problem != PathProblem::none) {
    return Error::usage("'" + std::string(member_path) +
                        "': " + std::string(describe(wanted.problem)));
  }
  return std::move(wanted.normalized);
}

Error no_such_member(const fs::path& archive_or_dir, std::string_view normalized) {
  return Error::bad_input(archive_or_dir.string() + ": no file member '" + std::string(normalized) +
                          "'");
}

Result<const IndexedEntry*> indexed_file(const fs::path& archive, const ArchiveIndex& index,
                                         std::string_view normalized) {
  const IndexedEntry* entry = index.find(normalized);
  if (!entry || entry->type != EntryType::file) return no_such_member(archive, normalized);
  return entry;
}

}  // namespace

Result<void> stream_member(const fs::path& archive_or_dir, std::string_view member_path,
                           const ByteSink& sink, const ReadLimits& limits) {
  auto wanted = wanted_member(member_path);
  if (!wanted) return std::move(wanted).error();
  std::error_code ec;
  if (fs::is_directory(archive_or_dir, ec)) {
    auto file = InputFile::open(archive_or_dir / *wanted);
    if (!file) return std::move(file).error();
    std::vector<std::byte> buffer(1 << 20);
    for (;;) {
      auto got = file->read(buffer);
      if (!got) return std::move(got).error();
      if (*got == 0) return {};
      if (auto r = sink(std::span<const std::byte>(buffer.data(), *got)); !r) return r;
    }
  }
  auto index = read_archive_index(archive_or_dir);
  if (!index) return std::move(index).error();
  if (*index) {
    auto entry = indexed_file(archive_or_dir, **index, *wanted);
    if (!entry) return std::move(entry).error();
    return stream_indexed_entry(archive_or_dir, **index, **entry, sink);
  }
  // A stream cannot look ahead for a later duplicate: find the last one first.
  auto reader = ArchiveReader::open_file(archive_or_dir, limits);
  if (!reader) return std::move(reader).error();
  std::uint64_t last = 0, ordinal = 0;
  for (;;) {
    auto next = reader->next();
    if (!next) return std::move(next).error();
    if (!*next) break;
    ++ordinal;
    if ((*next)->type == EntryType::file && check_member_path((*next)->path).normalized == *wanted)
      last = ordinal;
  }
  if (last == 0) return no_such_member(archive_or_dir, *wanted);
  reader = ArchiveReader::open_file(archive_or_dir, limits);
  if (!reader) return std::move(reader).error();
  for (std::uint64_t i = 0; i < last; ++i) {
    auto next = reader->next();
    if (!next) return std::move(next).error();
  }
  std::vector<std::byte> buffer(1 << 20);
  for (;;) {
    auto got = reader->read(buffer);
    if (!got) return std::move(got).error();
    if (*got == 0) return {};
    if (auto r = sink(std::span<const std::byte>(buffer.data(), *got)); !r) return r;
  }
}

Result<std::string> read_member(const fs::path& archive_or_dir, std::string_view member_path,
                                std::uint64_t max_bytes, const ReadLimits& limits) {
  std::error_code ec;
  if (!fs::is_directory(archive_or_dir, ec)) {
    // Through the index the member's gzip members decode in parallel.
    auto index = read_archive_index(archive_or_dir);
    if (!index) return std::move(index).error();
    if (*index) {
      auto wanted = wanted_member(member_path);
      if (!wanted) return std::move(wanted).error();
      auto entry = indexed_file(archive_or_dir, **index, *wanted);
      if (!entry) return std::move(entry).error();
      return read_indexed_entry(archive_or_dir, **index, **entry, max_bytes);
    }
  }
  std::string data;
  auto streamed = stream_member(
      archive_or_dir, member_path,
      [&](std::span<const std::byte> piece) -> Result<void> {
        if (data.size() + piece.size() > max_bytes) {
          return Error::bad_input(archive_or_dir.string() + ": member '" +
                                  std::string(member_path) + "' is larger than the " +
                                  std::to_string(max_bytes) + " bytes read into memory");
        }
        data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
        return {};
      },
      limits);
  if (!streamed) return std::move(streamed).error();
  return data;
}

}  // namespace smpack
