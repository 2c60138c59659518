#include <fnmatch.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "smpack/archive_writer.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

constexpr std::string_view kCodeDir = "code";

bool canonical_less(const SourceFile& a, const SourceFile& b) {
  return canonical_order(a.archive_path, b.archive_path);
}

Result<SourceFile> describe_source(const fs::path& disk, std::string archive_path,
                                   SymlinkPolicy symlinks) {
  std::error_code ec;
  auto link_status = fs::symlink_status(disk, ec);
  if (ec) return Error::io(disk.string() + ": " + ec.message());
  if (link_status.type() == fs::file_type::symlink && symlinks == SymlinkPolicy::refuse) {
    return Error::bad_input(disk.string() +
                            ": is a symbolic link; smpack archives hold regular files and "
                            "directories only")
        .with_hint("follow-symlinks", "to store its target");
  }
  auto status = fs::status(disk, ec);
  if (ec) return Error::bad_input(disk.string() + ": " + ec.message() + " (a dangling symlink?)");
  SourceFile file;
  file.archive_path = std::move(archive_path);
  file.disk_path = disk;
  file.mode = normalised_mode(
      status.type() == fs::file_type::directory ? EntryType::directory : EntryType::file,
      static_cast<std::uint32_t>(status.permissions()));
  if (status.type() == fs::file_type::directory) {
    file.type = EntryType::directory;
  } else if (status.type() == fs::file_type::regular) {
    file.type = EntryType::file;
    file.size = fs::file_size(disk, ec);
    if (ec) return Error::io(disk.string() + ": " + ec.message());
  } else {
    return Error::bad_input(disk.string() + ": is not a regular file or directory");
  }
  return file;
}

// Adds `dir`'s contents under `prefix` ("" for the root), minus what `spec` excludes.
Result<void> walk(const fs::path& dir, const std::string& prefix, const SourceSpec& spec,
                  std::vector<SourceFile>& out) {
  const SymlinkPolicy symlinks = spec.symlinks;
  std::error_code ec;
  auto options = symlinks == SymlinkPolicy::follow ? fs::directory_options::follow_directory_symlink
                                                   : fs::directory_options::none;
  fs::recursive_directory_iterator it(dir, options, ec), end;
  if (ec) return Error::io(dir.string() + ": " + ec.message());
  std::set<fs::path> visited_dirs;
  for (; it != end; it.increment(ec)) {
    if (ec) return Error::io(dir.string() + ": " + ec.message());
    if (it.depth() > 64)
      return Error::bad_input(it->path().string() +
                              ": directories nest deeper than 64 (a symlink loop?)");
    auto relative = it->path().lexically_relative(dir).generic_string();
    if (is_excluded(relative, spec)) {
      if (it->is_directory(ec)) it.disable_recursion_pending();
      continue;
    }
    auto source =
        describe_source(it->path(), prefix.empty() ? relative : prefix + "/" + relative, symlinks);
    if (!source) return std::move(source).error();
    out.push_back(std::move(*source));
  }
  return {};
}

Result<void> require(const fs::path& path, fs::file_type type, std::string_view what) {
  std::error_code ec;
  auto status = fs::status(path, ec);
  // A missing input is an I/O error (exit 3 in the CLI); a file where a folder belongs is a
  // usage mistake.
  if (ec) return Error::io(path.string() + ": " + ec.message());
  if (status.type() != type) return Error::usage(path.string() + ": not a " + std::string(what));
  return {};
}

}  // namespace

std::uint32_t normalised_mode(EntryType type, std::uint32_t mode) {
  return type == EntryType::directory || (mode & 0111u) ? 0755u : 0644u;
}

bool canonical_order(std::string_view a, std::string_view b) {
  const bool a_code = is_code_path(a), b_code = is_code_path(b);
  if (a_code != b_code) return b_code;
  // Component by component, so "a/b" sorts with "a" and before "a-b".
  return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
    return static_cast<unsigned char>(x == '/' ? '\x01' : x) <
           static_cast<unsigned char>(y == '/' ? '\x01' : y);
  });
}

bool is_excluded(std::string_view relative_path, const SourceSpec& spec) {
  const auto slash = relative_path.rfind('/');
  const std::string name(slash == std::string_view::npos ? relative_path
                                                         : relative_path.substr(slash + 1));
  if (spec.default_excludes) {
    for (std::string_view junk : kDefaultExcludes) {
      if (name == junk) return true;
    }
  }
  // As GNU tar's --exclude (unanchored, wildcards matching '/'): the pattern, without a
  // leading "./", against the path from any of its components on.
  return std::any_of(spec.exclude.begin(), spec.exclude.end(), [&](const std::string& given) {
    std::string_view pattern = given;
    while (pattern.starts_with("./")) pattern.remove_prefix(2);
    const std::string wanted(pattern);
    for (std::size_t at = 0;;) {
      const std::string tail(relative_path.substr(at));
      if (::fnmatch(wanted.c_str(), tail.c_str(), 0) == 0) return true;
      at = relative_path.find('/', at);
      if (at == std::string_view::npos) return false;
      ++at;
    }
  });
}

bool is_code_path(std::string_view archive_path) {
  return archive_path == kCodeDir || (archive_path.size() > kCodeDir.size() &&
                                      archive_path.substr(0, kCodeDir.size()) == kCodeDir &&
                                      archive_path[kCodeDir.size()] == '/');
}

bool SourceSpec::has_code() const {
  return code_dir || entry_point || requirements;
}

Result<std::vector<SourceFile>> collect_code_sources(const SourceSpec& spec) {
  std::vector<SourceFile> out;
  if (!spec.has_code()) return out;
  std::set<std::string> code_paths;
  auto add_code_file = [&](const fs::path& disk, const std::string& name) -> Result<void> {
    if (auto r = require(disk, fs::file_type::regular, "regular file"); !r) return r;
    auto source = describe_source(disk, "code/" + name, spec.symlinks);
    if (!source) return std::move(source).error();
    if (!code_paths.insert(source->archive_path).second) {
      return Error::usage("code/" + name +
                          " is given twice (by the code folder and by the entry point or the "
                          "requirements file)");
    }
    out.push_back(std::move(*source));
    return {};
  };
  out.push_back({"code", spec.code_dir.value_or(fs::path()), EntryType::directory, 0755, 0});
  if (spec.code_dir) {
    if (auto r = require(*spec.code_dir, fs::file_type::directory, "directory"); !r)
      return std::move(r).error();
    std::vector<SourceFile> code;
    if (auto r = walk(*spec.code_dir, "code", spec, code); !r) return std::move(r).error();
    for (auto& f : code) code_paths.insert(f.archive_path);
    out.insert(out.end(), code.begin(), code.end());
  }
  if (spec.entry_point) {
    if (auto r = add_code_file(*spec.entry_point, spec.entry_point->filename().string()); !r)
      return std::move(r).error();
  }
  if (spec.requirements) {
    if (auto r = add_code_file(*spec.requirements, "requirements.txt"); !r)
      return std::move(r).error();
  }
  std::sort(out.begin(), out.end(), canonical_less);
  return out;
}

bool replaced_by_code(std::string_view path, const SourceSpec& spec,
                      const std::vector<SourceFile>& given) {
  if (!spec.has_code() || !is_code_path(path)) return false;
  if (spec.replaces_code() || path == kCodeDir) return true;
  return std::any_of(given.begin(), given.end(),
                     [&](const SourceFile& f) { return f.archive_path == path; });
}

std::vector<SourceFile> apply_code(std::vector<SourceFile> existing, std::vector<SourceFile> given,
                                   const SourceSpec& spec) {
  std::erase_if(existing,
                [&](const SourceFile& f) { return replaced_by_code(f.archive_path, spec, given); });
  existing.insert(existing.end(), given.begin(), given.end());
  std::sort(existing.begin(), existing.end(), canonical_less);
  return existing;
}

Result<std::vector<SourceFile>> collect_sources(const SourceSpec& spec) {
  if (auto r = require(spec.model_dir, fs::file_type::directory, "directory"); !r)
    return std::move(r).error();
  std::vector<SourceFile> out;
  if (auto r = walk(spec.model_dir, "", spec, out); !r) return std::move(r).error();
  // Code given with the call goes over the model directory's own code/ in the archive
  // (the directory itself is left as it is).
  auto code = collect_code_sources(spec);
  if (!code) return std::move(code).error();
  return apply_code(std::move(out), std::move(*code), spec);
}

}  // namespace smpack
