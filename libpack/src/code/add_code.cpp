#include "smpack/add_code.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "archive/member_appender.h"
#include "io/file_io.h"
#include "io/temp_dir.h"
#include "smpack/archive_index.h"
#include "smpack/archive_reader.h"
#include "smpack/artifact.h"
#include "smpack/digest.h"
#include "smpack/lint_gate.h"
#include "smpack/member_path.h"
#include "util/json_text.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

struct OldCode {
  std::map<std::string, std::pair<std::string, std::uint32_t>> files;  // path -> (sha256, mode)
};

void compare_code(const OldCode& old_code, const ArchiveIndex& index, AddCodeResult& result) {
  std::set<std::string> seen;
  for (const auto& e : index.entries) {
    if (!is_code_path(e.path) || e.type != EntryType::file) continue;
    seen.insert(e.path);
    auto it = old_code.files.find(e.path);
    if (it == old_code.files.end()) {
      result.added.push_back(e.path);
    } else if (it->second.first != e.sha256 || it->second.second != e.mode) {
      result.replaced.push_back(e.path);
    }
  }
  for (const auto& [path, info] : old_code.files) {
    if (!seen.count(path)) result.removed.push_back(path);
  }
}

void finish_result(const ArchiveIndex& index, AddCodeResult& result) {
  result.archive_bytes = index.file_bytes;
  auto entries = index.manifest_entries();
  result.content_digest = content_digest(entries);
}

// Keeps the members before code/ and returns what the old code/ held.
OldCode cut_code(ArchiveIndex& index) {
  OldCode old_code;
  std::size_t first_code = index.entries.size();
  for (std::size_t i = 0; i < index.entries.size(); ++i) {
    if (index.entries[i].first_member >= index.code_member) {
      first_code = std::min(first_code, i);
      if (index.entries[i].type == EntryType::file) {
        old_code.files[index.entries[i].path] = {index.entries[i].sha256, index.entries[i].mode};
      }
    }
  }
  index.entries.resize(first_code);
  index.members.resize(index.code_member);
  return old_code;
}

// The new code/ members, then the end-of-archive member and the index.
Result<void> append_code_and_finish(MemberAppender& appender, const std::vector<SourceFile>& code) {
  if (auto r = appender.append(code); !r) return r;
  return appender.finish();
}

// Renames the finished output into place and fills in what changed.
Result<AddCodeResult> commit_output(ArchiveOutput& out, const OldCode& old_code,
                                    const ArchiveIndex& index, AddCodeResult result,
                                    const WriteOptions& options) {
  if (options.cancel && options.cancel->cancelled()) return Error::interrupted();
  if (auto r = out.commit(); !r) return std::move(r).error();
  result.etag = out.etag();
  compare_code(old_code, index, result);
  finish_result(index, result);
  return result;
}

WriteOptions options_for(const ArchiveIndex& index, const WriteOptions& options) {
  WriteOptions adjusted = options;
  adjusted.chunk_bytes = index.chunk_bytes;  // the kept part's chunking stays the archive's
  return adjusted;
}

Result<AddCodeResult> rewrite_tail(const fs::path& archive, ArchiveIndex index,
                                   const std::vector<SourceFile>& code,
                                   const WriteOptions& options) {
  const std::uint64_t tail_offset = index.members[index.code_member].file_offset;
  auto old_tail = read_file_from(archive, tail_offset);
  if (!old_tail) return std::move(old_tail).error();
  fs::path backup = archive;
  backup += ".smpack-tail";
  {
    auto saved = AtomicOutputFile::create(backup);
    if (!saved) return std::move(saved).error();
    if (auto r = saved->write(*old_tail); !r) return std::move(r).error();
    if (auto r = saved->commit(); !r) return std::move(r).error();
  }
  int fd = ::open(archive.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error(archive, "open for writing", errno);
  auto restore = [&](Error error) -> Result<AddCodeResult> {
    bool restored = ::ftruncate(fd, static_cast<off_t>(tail_offset)) == 0 &&
                    ::lseek(fd, static_cast<off_t>(tail_offset), SEEK_SET) >= 0 &&
                    write_all(fd, *old_tail, archive.string()) && ::fsync(fd) == 0;
    ::close(fd);
    if (restored) {
      ::unlink(backup.c_str());
    } else {
      error.message +=
          "; the original tail could not be put back: it is saved in " + backup.string();
    }
    return error;
  };
  OldCode old_code = cut_code(index);
  AddCodeResult result;
  result.method = AddCodeMethod::tail_rewrite;
  if (::ftruncate(fd, static_cast<off_t>(tail_offset)) != 0 ||
      ::lseek(fd, static_cast<off_t>(tail_offset), SEEK_SET) < 0) {
    return restore(io_error(archive, "truncate", errno));
  }
  WriteOptions adjusted = options_for(index, options);
  {
    MemberAppender appender(
        [&](std::span<const std::byte> bytes) -> Result<void> {
          result.bytes_written += bytes.size();
          return write_all(fd, bytes, archive.string());
        },
        index, adjusted);
    if (auto r = append_code_and_finish(appender, code); !r) return restore(std::move(r).error());
  }
  if (options.cancel && options.cancel->cancelled()) return restore(Error::interrupted());
  if (::fsync(fd) != 0) return restore(io_error(archive, "fsync", errno));
  ::close(fd);
  ::unlink(backup.c_str());
  compare_code(old_code, index, result);
  finish_result(index, result);
  return result;
}

// The members before code/ as they are (compressed bytes: copied by the kernel, or by S3
// itself), then a new tail.
Result<AddCodeResult> copy_with_new_tail(const Artifact& artifact, ArchiveIndex index,
                                         const std::vector<SourceFile>& code, ArchiveOutput& out,
                                         const WriteOptions& options) {
  const std::uint64_t tail_offset = index.members[index.code_member].file_offset;
  if (auto r = out.copy_from(*artifact.bytes(), 0, tail_offset, options.cancel); !r)
    return std::move(r).error();
  OldCode old_code = cut_code(index);
  AddCodeResult result;
  result.method = AddCodeMethod::copy_and_tail;
  result.bytes_written = tail_offset;
  WriteOptions adjusted = options_for(index, options);
  {
    MemberAppender appender(
        [&](std::span<const std::byte> bytes) -> Result<void> {
          result.bytes_written += bytes.size();
          return out.write(bytes);
        },
        index, adjusted);
    if (auto r = append_code_and_finish(appender, code); !r) return std::move(r).error();
  }
  return commit_output(out, old_code, index, std::move(result), options);
}

Result<AddCodeResult> stream_rewrite(const Artifact& artifact, const std::vector<SourceFile>& code,
                                     ArchiveOutput& out, const WriteOptions& options) {
  const ReadLimits& limits = artifact.limits();
  auto reader = ArchiveReader::open_source(*artifact.bytes(), artifact.name(), limits);
  if (!reader) return std::move(reader).error();
  ArchiveIndex index;
  AddCodeResult result;
  result.method = AddCodeMethod::stream_rewrite;
  OldCode old_code;
  std::set<std::string> seen;
  {
    MemberAppender appender(
        [&](std::span<const std::byte> bytes) -> Result<void> {
          result.bytes_written += bytes.size();
          return out.write(bytes);
        },
        index, options);
    const std::string& name = artifact.name();
    std::vector<std::byte> buffer(1 << 20);
    for (;;) {
      auto next = reader->next();
      if (!next) return std::move(next).error();
      if (!*next) break;
      const Entry& entry = **next;
      auto path = check_member_path(entry.path, limits.max_name_bytes);
      if (path.problem == PathProblem::root_member) continue;
      auto refuse = [&](std::string why) {
        return Error::bad_input(name + ": member '" + entry.path + "' " + why);
      };
      if (path.problem != PathProblem::none) return refuse(std::string(describe(path.problem)));
      if (entry.type != EntryType::file && entry.type != EntryType::directory) {
        return refuse("is a " + std::string(name_of(entry.type)) +
                      "; smpack archives hold regular files and directories only");
      }
      if (!seen.insert(path.normalized).second) {
        return refuse("appears twice; remove the duplicate first (extractors keep the last one)");
      }
      if (is_code_path(path.normalized)) {
        if (entry.type == EntryType::file) {
          Hasher sha;
          for (;;) {
            auto got = reader->read(buffer);
            if (!got) return std::move(got).error();
            if (*got == 0) break;
            sha.update(std::span<const std::byte>(buffer.data(), *got));
          }
          old_code.files[path.normalized] = {sha.finish_hex(),
                                             normalised_mode(entry.type, entry.mode)};
        }
        continue;
      }
      MemberSpec spec{path.normalized, entry.type, normalised_mode(entry.type, entry.mode),
                      entry.size, name + ": " + entry.path};
      auto read = [&](std::span<std::byte> bytes) { return reader->read(bytes); };
      if (auto r = appender.append(spec, read); !r) return std::move(r).error();
    }
    if (auto r = append_code_and_finish(appender, code); !r) return std::move(r).error();
  }
  return commit_output(out, old_code, index, std::move(result), options);
}

}  // namespace

std::string_view describe(AddCodeMethod method) {
  switch (method) {
    case AddCodeMethod::tail_rewrite:
      return "rewrote only the tail (code/ and the index)";
    case AddCodeMethod::copy_and_tail:
      return "copied the unchanged members as compressed bytes, wrote a new tail";
    case AddCodeMethod::stream_rewrite:
      return "rewrote the archive in one streaming pass";
  }
  return "";
}

// The archive's own code/ files, written under `scratch` and collected, so that an entry
// point or requirements file alone goes over them in the new tail.
Result<std::vector<SourceFile>> archive_code(const Artifact& artifact, const fs::path& scratch,
                                             const CancelToken* cancel) {
  constexpr std::uint64_t kMaxCodeFileBytes = 256ull << 20;
  VisitOptions visit;
  visit.keep_content = [](std::string_view path, std::uint64_t) { return is_code_path(path); };
  visit.max_content_bytes = kMaxCodeFileBytes;
  visit.cancel = cancel;
  auto tree = artifact.visit(visit);
  if (!tree) return std::move(tree).error();
  std::error_code ec;
  fs::create_directories(scratch / "code", ec);
  for (const Member& m : tree->members) {
    if (!is_code_path(m.path) || m.path_problem != PathProblem::none) continue;
    const fs::path dest = scratch / m.path;
    if (m.type == EntryType::directory) {
      fs::create_directories(dest, ec);
      continue;
    }
    if (m.type != EntryType::file) continue;
    auto content = tree->contents.find(m.path);
    if (content == tree->contents.end()) {
      return Error::bad_input(artifact.name() + ": member '" + m.path + "' is larger than " +
                              std::to_string(kMaxCodeFileBytes >> 20) +
                              " MiB; give the whole code folder with --code instead");
    }
    fs::create_directories(dest.parent_path(), ec);
    std::ofstream out(dest, std::ios::binary | std::ios::trunc);
    out << content->second;
    if (!out.flush()) return Error::io(dest.string() + ": cannot write");
    out.close();
    fs::permissions(dest, static_cast<fs::perms>(m.mode & 0777), ec);
  }
  SourceSpec there;  // kept whole, as the SDK keeps it
  there.code_dir = scratch / "code";
  there.default_excludes = false;
  return collect_code_sources(there);
}

Result<AddCodeResult> add_code(const fs::path& archive, const SourceSpec& code,
                               const std::optional<fs::path>& output,
                               const AddCodeOptions& options) {
  if (!code.has_code())
    return Error::usage("no code given").with_hint("code", "to name the code folder");
  auto sources = collect_code_sources(code);
  if (!sources) return std::move(sources).error();
  auto artifact = Artifact::open(archive, options.limits, options.s3);
  if (!artifact) return std::move(artifact).error();
  if (is_layout(artifact->kind())) {
    return Error::usage(
        archive.string() +
        " is a directory or S3 prefix; add-code changes archives (stage changes directories)");
  }
  if (options.lint) {
    auto report = lint_gate(*artifact, code, options.write.cancel);
    if (!report) return std::move(report).error();
    if (!report->deploy_ready) {
      AddCodeResult refused;
      refused.refused = std::move(*report);
      return refused;
    }
  }
  // An entry point or requirements file alone goes over the archive's own code/.
  std::optional<TempDir> scratch;
  if (!code.replaces_code()) {
    auto made = TempDir::create("smpack-code-");
    if (!made) return std::move(made).error();
    scratch.emplace(std::move(*made));
    auto kept = archive_code(*artifact, scratch->path(), options.write.cancel);
    if (!kept) return std::move(kept).error();
    sources = apply_code(std::move(*kept), std::move(*sources), code);
  }
  const ArchiveIndex* index = artifact->index();
  // A local archive changed in place keeps its file: only the tail is rewritten. An S3
  // object is replaced, when the upload completes, by one made of its own kept bytes.
  if (index && !output && !is_s3_url(archive.native()))
    return rewrite_tail(archive, *index, *sources, options.write);
  const fs::path target = output.value_or(archive);
  const std::uint64_t expected = artifact->bytes()->size() + expected_archive_bytes(*sources);
  auto out = open_archive_output(target.string(), options.s3, {expected, options.write.cancel});
  if (!out) return std::move(out).error();
  if (index) return copy_with_new_tail(*artifact, *index, *sources, **out, options.write);
  return stream_rewrite(*artifact, *sources, **out, options.write);
}

std::string add_code_json(const std::string& archive, const AddCodeResult& result) {
  nlohmann::ordered_json doc = {
      {"archive", archive},
      {"method", describe(result.method)},
      {"added", result.added},
      {"replaced", result.replaced},
      {"removed", result.removed},
      {"bytes_written", result.bytes_written},
      {"archive_bytes", result.archive_bytes},
      {"content_digest", result.content_digest},
      {"etag", result.etag.empty() ? nlohmann::ordered_json(nullptr)
                                   : nlohmann::ordered_json(result.etag)}};
  return json_text(doc);
}

}  // namespace smpack
