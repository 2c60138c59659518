#include "smpack/extract.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/member_safety.h"
#include "io/file_io.h"
#include "smpack/archive_reader.h"
#include "smpack/member_path.h"
#include "util/json_text.h"

namespace smpack {
namespace fs = std::filesystem;
namespace {

class Extractor {
 public:
  Extractor(const fs::path& root, const ExtractOptions& options, const ReadLimits& limits,
            std::string archive_name, std::uint64_t total_bytes)
      : root_(root),
        options_(options),
        limits_(limits),
        archive_(std::move(archive_name)),
        total_bytes_(total_bytes) {}

  Result<ExtractReport> run(ArchiveReader& reader) {
    for (;;) {
      if (options_.cancel && options_.cancel->cancelled()) return Error::interrupted();
      auto next = reader.next();
      if (!next) return std::move(next).error();
      if (!*next) break;
      const Entry& entry = **next;
      if (options_.progress) options_.progress->update(reader.compressed_bytes(), total_bytes_);
      auto problem = place(reader, entry);
      if (!problem) return std::move(problem).error();
      if (!problem->empty()) {
        std::string text = "member '" + entry.path + "': " + *problem;
        if (options_.unsafe == UnsafeMemberPolicy::refuse) {
          return Error::bad_input(archive_ + ": refusing to extract " + text);
        }
        report_.skipped.push_back(text);
      }
    }
    return report_;
  }

 private:
  // Creates every directory of `relative`'s parent, refusing to pass through
  // anything that is not a real directory (a symlink an earlier member made).
  Result<std::string> make_parents(const std::string& relative) {
    fs::path at = root_;
    auto parent = fs::path(relative).parent_path();
    for (const auto& part : parent) {
      at /= part;
      struct stat st {};
      if (::lstat(at.c_str(), &st) == 0) {
        if (S_ISLNK(st.st_mode))
          return std::string("would write through the symlink '" +
                             at.lexically_relative(root_).string() + "'");
        if (!S_ISDIR(st.st_mode)) return std::string("a parent is not a directory");
        continue;
      }
      if (::mkdir(at.c_str(), 0755) != 0 && errno != EEXIST)
        return io_error(at, "create directory", errno);
    }
    return std::string();
  }

  // Removes whatever is at `target` unless it is a directory we keep. What was there before
  // this extraction is replaced only with ExtractOptions::overwrite; what an earlier member
  // of the same archive put there is (extractors keep the last copy).
  Result<void> clear(const fs::path& target, const std::string& member, bool keep_directory) {
    struct stat st {};
    if (::lstat(target.c_str(), &st) != 0) return {};
    if (keep_directory && S_ISDIR(st.st_mode)) return {};
    if (!options_.overwrite && !placed_.count(member)) {
      return Error::io(target.string() + ": already exists, and member '" + member +
                       "' would replace it")
          .with_hint("overwrite", "to replace what is there");
    }
    std::error_code ec;
    fs::remove_all(target, ec);
    if (ec) return Error::io(target.string() + ": cannot replace: " + ec.message());
    return {};
  }

  // Returns "" when placed, or the reason the member is unsafe.
  Result<std::string> place(ArchiveReader& reader, const Entry& entry) {
    auto path = check_member_path(entry.path, limits_.max_name_bytes);
    if (path.problem == PathProblem::root_member) return std::string();
    auto safety = judge_.judge(path, entry.type, entry.link_target);
    if (safety.kind != UnsafeMember::none) return std::move(safety.reason);
    auto parents = make_parents(path.normalized);
    if (!parents) return parents;
    if (!parents->empty()) return parents;
    fs::path target = root_ / path.normalized;
    const mode_t mode = static_cast<mode_t>(entry.mode & 0777u);  // no setuid, setgid, sticky
    if (entry.type == EntryType::directory) {
      if (auto r = clear(target, path.normalized, true); !r) return std::move(r).error();
      if (::mkdir(target.c_str(), 0755) != 0 && errno != EEXIST)
        return io_error(target, "create directory", errno);
      ::chmod(target.c_str(), mode | 0700);
      ++report_.directories;
      placed_.insert(path.normalized);
      return std::string();
    }
    if (entry.type == EntryType::symlink) {
      if (auto r = clear(target, path.normalized, false); !r) return std::move(r).error();
      if (::symlink(entry.link_target.c_str(), target.c_str()) != 0)
        return io_error(target, "create symlink", errno);
      ++report_.links;
      placed_.insert(path.normalized);
      return std::string();
    }
    if (entry.type == EntryType::hardlink) {
      auto resolved = resolve_hardlink_target(entry.link_target);
      if (!extracted_files_.count(resolved.resolved)) {
        return "is a hardlink to '" + entry.link_target +
               "', which is not a file extracted before it";
      }
      if (auto r = clear(target, path.normalized, false); !r) return std::move(r).error();
      if (::link((root_ / resolved.resolved).c_str(), target.c_str()) != 0)
        return io_error(target, "create hardlink", errno);
      ++report_.links;
      placed_.insert(path.normalized);
      return std::string();
    }
    if (auto r = clear(target, path.normalized, false); !r) return std::move(r).error();
    int fd = ::open(target.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return io_error(target, "create", errno);
    std::vector<std::byte> buffer(1 << 20);
    Result<void> written;
    for (;;) {
      auto got = reader.read(buffer);
      if (!got) {
        written = std::move(got).error();
        break;
      }
      if (*got == 0) break;
      written = write_all(fd, std::span<const std::byte>(buffer.data(), *got), target.string());
      if (!written) break;
      report_.bytes += *got;
      if (options_.cancel && options_.cancel->cancelled()) {
        written = Error::interrupted();
        break;
      }
    }
    ::fchmod(fd, mode);
    ::close(fd);
    if (!written) {
      // A member half written is not left behind; the finished ones are kept.
      ::unlink(target.c_str());
      Error error = std::move(written).error();
      error.message += " (the partly written '" + path.normalized + "' was removed; the " +
                       std::to_string(report_.files) + " file(s) extracted before it are kept)";
      return error;
    }
    extracted_files_.insert(path.normalized);
    placed_.insert(path.normalized);
    ++report_.files;
    return std::string();
  }

  fs::path root_;
  const ExtractOptions& options_;
  const ReadLimits& limits_;
  std::string archive_;
  std::uint64_t total_bytes_;
  ExtractReport report_;
  std::set<std::string> extracted_files_;
  MemberJudge judge_;             // with the symlinks of the members before
  std::set<std::string> placed_;  // every member this extraction has put on disk
};

}  // namespace

Result<ExtractReport> extract_archive(const Artifact& archive, const fs::path& destination,
                                      const ExtractOptions& options) {
  if (is_layout(archive.kind()))
    return Error::usage(archive.name() + " is a directory or S3 prefix, not an archive");
  std::error_code ec;
  fs::create_directories(destination, ec);
  if (ec) return Error::io(destination.string() + ": " + ec.message());
  auto reader = ArchiveReader::open_source(*archive.bytes(), archive.name(), archive.limits());
  if (!reader) return std::move(reader).error();
  Extractor extractor(fs::canonical(destination, ec), options, archive.limits(), archive.name(),
                      archive.bytes()->size());
  if (ec) return Error::io(destination.string() + ": " + ec.message());
  return extractor.run(*reader);
}

std::string extract_json(const std::string& archive, const std::string& destination,
                         const ExtractReport& report) {
  nlohmann::ordered_json doc = {{"archive", archive},       {"destination", destination},
                                {"files", report.files},    {"directories", report.directories},
                                {"links", report.links},    {"bytes", report.bytes},
                                {"skipped", report.skipped}};
  return json_text(doc);
}

}  // namespace smpack
