#include "smpack/add_code.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "archive/gzip_splice.h"
#include "archive/member_appender.h"
#include "archive/tar_header.h"
#include "io/file_io.h"
#include "io/prefix_copy.h"
#include "io/temp_dir.h"
#include "smpack/archive_index.h"
#include "smpack/archive_reader.h"
#include "smpack/artifact.h"
#include "smpack/container_kind.h"
#include "smpack/digest.h"
#include "smpack/lint_gate.h"
#include "smpack/member_path.h"
#include "smpack/utf8.h"
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

bool is_gzip(const ByteSource& bytes) {
  std::array<std::byte, 2> head{};
  return bytes.size() >= head.size() && bytes.read_at(0, head) &&
         sniff_container(head) == ContainerKind::gzip;
}

WriteOptions options_for(const ArchiveIndex& index, const WriteOptions& options) {
  WriteOptions adjusted = options;
  adjusted.chunk_bytes = index.chunk_bytes;  // the kept part's chunking stays the archive's
  return adjusted;
}

using TailWriter =
    std::function<Result<void>(const ByteSource& old_tail, const MemberAppender::Write& write)>;

// Rewrites `archive` from `tail_offset` on, in place. The old tail is saved first, to
// ARCHIVE.smpack-tail (fsynced); `write_tail` reads it from there (its byte 0 is file
// offset tail_offset) and writes the new one. Any error or interrupt puts the old tail back.
Result<void> rewrite_in_place(const fs::path& archive, std::uint64_t tail_offset,
                              const CancelToken* cancel, const TailWriter& write_tail) {
  fs::path backup = archive;
  backup += ".smpack-tail";
  // Anything there, or a name that cannot be checked, may be the only copy of a tail.
  if (std::error_code ec; fs::symlink_status(backup, ec).type() != fs::file_type::not_found) {
    return Error::io(backup.string() +
                     " exists: an earlier add-code --in-place was cut short and this may be "
                     "the only copy of the archive's old tail; put it back or remove it first");
  }
  {
    auto original = FileByteSource::open(archive);
    if (!original) return std::move(original).error();
    auto saved = open_archive_output(backup.string(), nullptr, {0, cancel});
    if (!saved) return std::move(saved).error();
    if (auto r =
            (*saved)->copy_from(*original, tail_offset, original->size() - tail_offset, cancel);
        !r)
      return r;
    if (auto r = (*saved)->commit(); !r) return r;
  }
  auto old_tail = FileByteSource::open(backup);
  if (!old_tail) return std::move(old_tail).error();
  int fd = ::open(archive.c_str(), O_RDWR | O_CLOEXEC);
  if (fd < 0) return io_error(archive, "open for writing", errno);
  auto put_back = [&]() -> bool {
    if (::ftruncate(fd, static_cast<off_t>(tail_offset)) != 0 ||
        ::lseek(fd, static_cast<off_t>(tail_offset), SEEK_SET) < 0)
      return false;
    std::vector<std::byte> piece(1 << 20);
    for (std::uint64_t at = 0; at < old_tail->size(); at += piece.size()) {
      auto part = std::span(piece).first(
          static_cast<std::size_t>(std::min<std::uint64_t>(piece.size(), old_tail->size() - at)));
      if (!old_tail->read_at(at, part) || !write_all(fd, part, archive.string())) return false;
    }
    return ::fsync(fd) == 0;
  };
  auto restore = [&](Error error) -> Result<void> {
    const bool restored = put_back();
    ::close(fd);
    if (restored) {
      ::unlink(backup.c_str());
    } else {
      error.message +=
          "; the original tail could not be put back: it is saved in " + backup.string();
    }
    return error;
  };
  if (::ftruncate(fd, static_cast<off_t>(tail_offset)) != 0 ||
      ::lseek(fd, static_cast<off_t>(tail_offset), SEEK_SET) < 0) {
    return restore(io_error(archive, "truncate", errno));
  }
  Result<void> written;
  try {
    written = write_tail(*old_tail, [&](std::span<const std::byte> bytes) {
      return write_all(fd, bytes, archive.string());
    });
  } catch (const std::exception& e) {  // the file is cut short: put the tail back first
    written = Error::internal(std::string("while writing the new tail: ") + e.what());
  }
  if (!written) return restore(std::move(written).error());
  if (cancel && cancel->cancelled()) return restore(Error::interrupted());
  if (::fsync(fd) != 0) return restore(io_error(archive, "fsync", errno));
  ::close(fd);
  ::unlink(backup.c_str());
  return {};
}

Result<AddCodeResult> rewrite_tail(const fs::path& archive, ArchiveIndex index,
                                   const std::vector<SourceFile>& code,
                                   const WriteOptions& options) {
  const std::uint64_t tail_offset = index.members[index.code_member].file_offset;
  OldCode old_code = cut_code(index);
  AddCodeResult result;
  result.method = AddCodeMethod::tail_rewrite;
  result.kept_bytes = tail_offset;
  WriteOptions adjusted = options_for(index, options);
  auto rewritten =
      rewrite_in_place(archive, tail_offset, options.cancel,
                       [&](const ByteSource&, const MemberAppender::Write& write) -> Result<void> {
                         MemberAppender appender(
                             [&](std::span<const std::byte> bytes) -> Result<void> {
                               result.bytes_written += bytes.size();
                               return write(bytes);
                             },
                             index, adjusted);
                         return append_code_and_finish(appender, code);
                       });
  if (!rewritten) return std::move(rewritten).error();
  compare_code(old_code, index, result);
  finish_result(index, result);
  return result;
}

// The members before code/ as they are (compressed bytes: copied into the file, or by S3
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
  result.kept_bytes = tail_offset;
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

// A member of a foreign archive as add-code keeps it: its normalised path, or nullopt
// for the root member ("./"), which needs no member of its own; bad_input for what an
// smpack archive does not hold (links, special files, unsafe names, a second copy).
Result<std::optional<std::string>> kept_member_path(const Entry& entry, const std::string& name,
                                                    const ReadLimits& limits,
                                                    std::set<std::string>& seen) {
  auto path = check_member_path(entry.path, limits.max_name_bytes);
  if (path.problem == PathProblem::root_member) return std::optional<std::string>();
  auto refuse = [&](std::string why) {
    return Error::bad_input(name + ": member '" + entry.path + "' " + why);
  };
  if (path.problem != PathProblem::none) return refuse(std::string(describe(path.problem)));
  if (entry.type != EntryType::file && entry.type != EntryType::directory) {
    return refuse("is a " + std::string(name_of(entry.type)) +
                  "; smpack archives hold regular files and directories only");
  }
  if (entry.sparse) return refuse("is a sparse file; smpack archives hold plain files only");
  if (first_invalid_utf8(entry.path) != std::string::npos)
    return refuse("has a name that is not UTF-8; smpack's index holds UTF-8 names");
  if (!seen.insert(path.normalized).second) {
    return refuse("appears twice; remove the duplicate first (extractors keep the last one)");
  }
  return std::optional<std::string>(std::move(path.normalized));
}

// The SHA-256 of the current member's data, read to its end.
Result<std::string> hash_member_data(ArchiveReader& reader, std::span<std::byte> buffer,
                                     const CancelToken* cancel) {
  Hasher sha;
  for (;;) {
    if (cancel && cancel->cancelled()) return Error::interrupted();
    auto got = reader.read(buffer);
    if (!got) return std::move(got).error();
    if (*got == 0) return sha.finish_hex();
    sha.update(buffer.first(*got));
  }
}

// The lint gate's verdict on `report`: the refusal to return (nothing written), or
// nullopt to go on.
std::optional<AddCodeResult> refusal(LintReport report) {
  if (report.deploy_ready) return std::nullopt;
  AddCodeResult refused;
  refused.refused = std::move(report);
  return refused;
}

// Reads a foreign archive's members after `reader`'s position into `appender`, with
// normalised metadata; the old code/ is hashed into `old_code`, not copied.
Result<void> append_foreign_members(ArchiveReader& reader, MemberAppender& appender,
                                    OldCode& old_code, const std::string& name,
                                    const ReadLimits& limits, const CancelToken* cancel) {
  std::set<std::string> seen;
  std::vector<std::byte> buffer(1 << 20);
  for (;;) {
    auto next = reader.next();
    if (!next) return std::move(next).error();
    if (!*next) return {};
    const Entry& entry = **next;
    auto path = kept_member_path(entry, name, limits, seen);
    if (!path) return std::move(path).error();
    if (!*path) continue;
    if (is_code_path(**path)) {
      if (entry.type == EntryType::file) {
        auto sha = hash_member_data(reader, buffer, cancel);
        if (!sha) return std::move(sha).error();
        old_code.files[**path] = {std::move(*sha), normalised_mode(entry.type, entry.mode)};
      }
      continue;
    }
    MemberSpec spec{**path, entry.type, normalised_mode(entry.type, entry.mode), entry.size,
                    name + ": " + entry.path};
    auto read = [&](std::span<std::byte> bytes) { return reader.read(bytes); };
    if (auto r = appender.append(spec, read); !r) return r;
  }
}

Result<AddCodeResult> stream_rewrite(const Artifact& artifact, const std::vector<SourceFile>& code,
                                     ArchiveOutput& out, const WriteOptions& options) {
  auto reader = ArchiveReader::open_source(*artifact.bytes(), artifact.name(), artifact.limits());
  if (!reader) return std::move(reader).error();
  ArchiveIndex index;
  AddCodeResult result;
  result.method = AddCodeMethod::stream_rewrite;
  OldCode old_code;
  {
    MemberAppender appender(
        [&](std::span<const std::byte> bytes) -> Result<void> {
          result.bytes_written += bytes.size();
          return out.write(bytes);
        },
        index, options);
    if (auto r = append_foreign_members(*reader, appender, old_code, artifact.name(),
                                        artifact.limits(), options.cancel);
        !r)
      return std::move(r).error();
    if (auto r = append_code_and_finish(appender, code); !r) return std::move(r).error();
  }
  result.rewritten_tar_bytes = index.members.back().tar_offset;
  return commit_output(out, old_code, index, std::move(result), options);
}

// What one pass over a foreign gzip tar finds for a splice: the members kept before the
// cut (checked as stream_rewrite checks them, with their stored metadata and SHA-256),
// the old code/, the cut (the first code/ member's header, else the end of the tar
// stream), and the deflate block boundary to re-encode from. With the lint gate, the same
// pass is the gate's visit, and `refused` its refusal.
struct ForeignScan {
  ArchiveIndex index;
  OldCode old_code;
  std::uint64_t cut = 0;
  bool members_after_cut = false;  // outside code/, after the cut: copied into the tail
  std::uint64_t bytes_after_cut = 0;
  std::vector<GzipMemberInfo> gzip_members;
  std::optional<DeflateBoundary> from;
  std::optional<AddCodeResult> refused;
};

// The scan's side of the pass, watching the members as the visit reads them. A member
// the scan refuses ends the pass when `stop_at_refusal`; else (beside the lint gate,
// whose verdict comes first) the rest is read and the refusal reported after it.
class ForeignScanWatch {
 public:
  // `prefix`, when set, is told how much of the file is kept as the pass finds out.
  ForeignScanWatch(ForeignScan& scan, const Artifact& artifact, bool stop_at_refusal,
                   PrefixCopy* prefix)
      : scan_(scan), artifact_(artifact), stop_at_refusal_(stop_at_refusal), prefix_(prefix) {
    watch_.gzip.member = [this](const GzipMemberInfo& m) { scan_.gzip_members.push_back(m); };
    watch_.gzip.boundary = [this](const DeflateBoundary& at,
                                  const std::function<std::vector<std::byte>()>& window) {
      if (cut_known_ || refused_member_) return;
      finder_.on_boundary(at, window);
      tell_prefix();
    };
    watch_.wants_sha256 = [this](const Entry& entry) { return begin(entry); };
    watch_.member = [this](const Entry& entry, const Member& member) { end(entry, member); };
  }
  ForeignScanWatch(const ForeignScanWatch&) = delete;  // its watch points at it
  ForeignScanWatch& operator=(const ForeignScanWatch&) = delete;
  const StreamWatch& watch() const { return watch_; }

  // After the pass: the cut and the boundary to resume from, or why the archive
  // cannot be spliced (a member an smpack archive does not hold).
  Result<void> finish() {
    if (refused_member_) return *refused_member_;
    if (!cut_known_) scan_.cut = tar_end_;
    auto from = finder_.choose(scan_.cut);
    if (!from)
      return Error::internal(artifact_.name() + ": no deflate block boundary before the cut");
    auto nearer = nearer_boundary(*artifact_.bytes(), artifact_.name(), *from, scan_.cut);
    if (!nearer) return std::move(nearer).error();
    scan_.from = std::move(*nearer);
    return {};
  }

 private:
  // Classifies the member about to be read; true when its SHA-256 goes into the scan.
  Result<bool> begin(const Entry& entry) {
    path_.reset();
    if (refused_member_) return false;
    auto path = kept_member_path(entry, artifact_.name(), artifact_.limits(), seen_);
    if (!path) {
      if (stop_at_refusal_) return std::move(path).error();
      refused_member_ = std::move(path).error();
      return false;
    }
    path_ = std::move(*path);
    tar_end_ = entry.data_offset + entry.size + tar_padding(entry.size);
    if (!path_) return false;
    const bool code = is_code_path(*path_);
    if (code && !cut_known_) {
      scan_.cut = entry.header_offset;
      cut_known_ = true;
    }
    if (!code && !cut_known_) {
      finder_.cut_not_before(tar_end_);
      tell_prefix();
    }
    return entry.type == EntryType::file && (code || !cut_known_);
  }

  void tell_prefix() {
    if (prefix_) prefix_->at_least(finder_.kept_bytes_at_least());
  }

  void end(const Entry& entry, const Member& member) {
    if (!path_) return;
    const std::string& path = *path_;
    if (is_code_path(path)) {
      if (entry.type == EntryType::file)
        scan_.old_code.files[path] = {member.sha256, normalised_mode(entry.type, entry.mode)};
    } else if (cut_known_) {
      scan_.members_after_cut = true;
      scan_.bytes_after_cut += entry.size;
    } else {
      scan_.index.entries.push_back({path, entry.type, entry.mode, entry.size, member.sha256,
                                     entry.header_offset, entry.data_offset, 0});
    }
  }

  ForeignScan& scan_;
  const Artifact& artifact_;
  const bool stop_at_refusal_;
  PrefixCopy* const prefix_;
  StreamWatch watch_;
  SplicePointFinder finder_;
  std::set<std::string> seen_;
  // The member being read, as kept; nullopt for the root member or one refused.
  std::optional<std::string> path_;
  std::optional<Error> refused_member_;
  bool cut_known_ = false;
  std::uint64_t tar_end_ = 0;
};

// One pass over a foreign gzip tar: the splice scan, and with `gate` the lint gate's
// visit of the same members, whose refusal comes before anything the scan found. With
// `prefix`, the bytes the splice keeps are copied while the pass reads on.
Result<ForeignScan> scan_foreign(const Artifact& artifact, const SourceSpec* gate,
                                 PrefixCopy* prefix, const CancelToken* cancel) {
  ForeignScan scan;
  ForeignScanWatch watcher(scan, artifact, /*stop_at_refusal=*/gate == nullptr, prefix);
  VisitOptions visit;
  if (gate) {
    visit = lint_gate_visit(cancel);
  } else {
    visit.keep_content = nullptr;
    visit.cancel = cancel;
  }
  visit.watch = &watcher.watch();
  auto tree = artifact.visit(visit);
  if (!tree) return std::move(tree).error();
  if (gate) {
    auto report = lint_gate(artifact, std::move(*tree), *gate);
    if (!report) return std::move(report).error();
    scan.refused = refusal(std::move(*report));
    if (scan.refused) return scan;
  }
  if (auto r = watcher.finish(); !r) return std::move(r).error();
  return scan;
}

// The index of the kept part: the gzip members before the cut member whole, then the cut
// member ended at the cut (when any of it is kept).
// The scan's gzip members reach the member that holds the cut (an observer saw every one),
// and are few enough for an index.
Result<void> check_cut_member(const ForeignScan& scan, const std::string& name) {
  constexpr std::size_t kMaxKeptMembers = 100000;
  if (scan.from->member > kMaxKeptMembers) {
    return Error::bad_input(name + ": " + std::to_string(scan.from->member) +
                            " gzip members before the old code/; add-code keeps at most " +
                            std::to_string(kMaxKeptMembers) + " (rebuild it with smpack build)");
  }
  std::uint64_t tar_at = 0;
  for (std::uint64_t i = 0; i < scan.from->member; ++i) {
    if (i >= scan.gzip_members.size())
      return Error::internal(name + ": a gzip member before the cut was not seen");
    tar_at += scan.gzip_members[i].decoded_bytes;
  }
  if (tar_at != scan.from->member_tar_offset || scan.cut < scan.from->tar_offset)
    return Error::internal(name + ": the splice point is not in the member that holds the cut");
  return {};
}

void index_kept_prefix(ForeignScan& scan, std::uint64_t cut_member_bytes) {
  ArchiveIndex& index = scan.index;
  std::uint64_t tar_at = 0;
  for (std::uint64_t i = 0; i < scan.from->member; ++i) {
    const GzipMemberInfo& m = scan.gzip_members[i];
    index.members.push_back({m.file_offset, m.file_bytes, tar_at, m.decoded_bytes});
    tar_at += m.decoded_bytes;
  }
  if (cut_member_bytes > 0) {
    index.members.push_back({scan.from->member_file_offset, cut_member_bytes,
                             scan.from->member_tar_offset,
                             scan.cut - scan.from->member_tar_offset});
  }
  index.foreign_members = static_cast<std::uint32_t>(index.members.size());
  index.version = index_version(index);
  std::uint32_t member = 0;
  for (IndexedEntry& e : index.entries) {
    while (member + 1 < index.members.size() &&
           e.header_offset >= index.members[member + 1].tar_offset)
      ++member;
    e.first_member = member;
  }
}

// add-code on a foreign gzip tar without recompressing what precedes the old code/ (or
// the end of the tar stream): that part is kept byte for byte, the gzip member that holds
// the cut is ended there (gzip_splice.h), and the members after the cut, the new code/
// and the index follow as smpack's own members. `output` null: in place. `prefix`, when
// set, has been copying the kept bytes into `output` during the scan.
Result<AddCodeResult> splice_foreign(const Artifact& artifact, const fs::path& archive,
                                     ArchiveOutput* output, PrefixCopy* prefix,
                                     const std::vector<SourceFile>& code,
                                     const WriteOptions& options, ForeignScan& scan) {
  const DeflateBoundary& from = *scan.from;
  if (auto r = check_cut_member(scan, artifact.name()); !r) return std::move(r).error();
  // A cut at a gzip member's start keeps the members before it whole and none of it.
  const bool keep_part = scan.cut > from.member_tar_offset;
  const std::uint64_t keep_bytes = kept_file_bytes(from, scan.cut);
  AddCodeResult result;
  result.method = AddCodeMethod::splice;
  result.kept_bytes = keep_bytes;
  result.rewritten_tar_bytes = scan.cut - from.tar_offset + scan.bytes_after_cut;
  auto write_tail = [&](const ByteSource& tail_source, std::uint64_t origin,
                        const MemberAppender::Write& write) -> Result<void> {
    auto counted = [&](std::span<const std::byte> bytes) -> Result<void> {
      result.bytes_written += bytes.size();
      return write(bytes);
    };
    GzipDecoder rest = resume_at(tail_source, origin, artifact.name(), from);
    std::uint64_t member_end_bytes = 0;
    if (keep_part) {
      auto ended = end_member_at(tail_source, origin, artifact.name(), rest, from, scan.cut,
                                 options.level, counted);
      if (!ended) return std::move(ended).error();
      member_end_bytes = *ended;
    }
    index_kept_prefix(scan,
                      keep_part ? keep_bytes - from.member_file_offset + member_end_bytes : 0);
    MemberAppender appender(counted, scan.index, options);
    if (scan.members_after_cut) {
      auto after =
          ArchiveReader::open_tar_stream([&](std::span<std::byte> out) { return rest.read(out); },
                                         artifact.name(), artifact.limits());
      if (!after) return std::move(after).error();
      if (auto r = append_foreign_members(*after, appender, scan.old_code, artifact.name(),
                                          artifact.limits(), options.cancel);
          !r)
        return r;
    }
    return append_code_and_finish(appender, code);
  };
  // Nothing kept: a whole new file, written beside the old one and renamed over it.
  std::unique_ptr<ArchiveOutput> replacement;
  if (!output && keep_bytes == 0) {
    auto opened = open_archive_output(archive.string(), nullptr, {0, options.cancel});
    if (!opened) return std::move(opened).error();
    replacement = std::move(*opened);
    output = replacement.get();
  }
  if (!output) {
    auto rewritten =
        rewrite_in_place(archive, keep_bytes, options.cancel,
                         [&](const ByteSource& old_tail, const MemberAppender::Write& write) {
                           return write_tail(old_tail, keep_bytes, write);
                         });
    if (!rewritten) return std::move(rewritten).error();
    compare_code(scan.old_code, scan.index, result);
    finish_result(scan.index, result);
    return result;
  }
  auto kept = prefix ? prefix->finish(keep_bytes)
                     : output->copy_from(*artifact.bytes(), 0, keep_bytes, options.cancel);
  if (!kept) return std::move(kept).error();
  result.bytes_written = keep_bytes;
  if (auto r = write_tail(*artifact.bytes(), 0,
                          [&](std::span<const std::byte> bytes) { return output->write(bytes); });
      !r)
    return std::move(r).error();
  return commit_output(*output, scan.old_code, scan.index, std::move(result), options);
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
    case AddCodeMethod::splice:
      return "kept the other writer's compressed bytes before the old code/ (or the end), "
             "re-encoded from there";
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
  const bool splice = !artifact->index() && is_gzip(*artifact->bytes());
  // With --code, a foreign gzip tar is inflated once: the gate's visit is the splice's
  // scan. (An entry point or requirements file alone is gated first, and the archive's own
  // code/ read, in passes of their own.) Nothing is touched in place, and nothing appears
  // at the destination, before the gate's verdict.
  const bool gate_in_scan = options.lint && splice && code.replaces_code();
  if (options.lint && !gate_in_scan) {
    auto report = lint_gate(*artifact, code, options.write.cancel);
    if (!report) return std::move(report).error();
    if (auto refused = refusal(std::move(*report))) return std::move(*refused);
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
  // A local archive changed in place keeps its file: only the tail is rewritten. An S3
  // object is replaced, when the upload completes, by one made of its own kept bytes.
  const bool local_in_place = !output && !is_s3_url(archive.native());
  const fs::path target = output.value_or(archive);
  const std::uint64_t expected = artifact->bytes()->size() + expected_archive_bytes(*sources);
  auto open_output = [&] {
    return open_archive_output(target.string(), options.s3, {expected, options.write.cancel});
  };
  // A splice from one local file into another copies the kept bytes while the scan reads
  // on, so the output (a hidden temporary file beside the target until it is committed)
  // is opened first; a refusal or an error removes it. (An S3 upload copies server-side,
  // in parts sized by the whole prefix, once the scan has ended.)
  std::unique_ptr<ArchiveOutput> out;
  std::optional<PrefixCopy> prefix;
  if (splice && !local_in_place && !is_s3_url(target.native()) && !is_s3_url(archive.native())) {
    // One that cannot be opened is opened again after the scan, so its error still comes
    // after the gate's verdict.
    if (auto opened = open_output()) {
      out = std::move(*opened);
      prefix.emplace(*out, *artifact->bytes(), options.write.cancel);
    }
  }
  std::optional<ForeignScan> scan;
  if (splice) {
    auto scanned = scan_foreign(*artifact, gate_in_scan ? &code : nullptr,
                                prefix ? &*prefix : nullptr, options.write.cancel);
    if (!scanned) return std::move(scanned).error();
    if (scanned->refused) return std::move(*scanned->refused);
    scan.emplace(std::move(*scanned));
  }
  const ArchiveIndex* index = artifact->index();
  if (index && local_in_place) return rewrite_tail(archive, *index, *sources, options.write);
  if (splice && local_in_place)
    return splice_foreign(*artifact, archive, nullptr, nullptr, *sources, options.write, *scan);
  if (!out) {
    auto opened = open_output();
    if (!opened) return std::move(opened).error();
    out = std::move(*opened);
  }
  if (index) return copy_with_new_tail(*artifact, *index, *sources, *out, options.write);
  if (splice) {
    return splice_foreign(*artifact, archive, out.get(), prefix ? &*prefix : nullptr, *sources,
                          options.write, *scan);
  }
  return stream_rewrite(*artifact, *sources, *out, options.write);
}

std::string add_code_json(const std::string& archive, const AddCodeResult& result) {
  nlohmann::ordered_json doc = {{"archive", archive},
                                {"method", describe(result.method)},
                                {"added", result.added},
                                {"replaced", result.replaced},
                                {"removed", result.removed},
                                {"bytes_written", result.bytes_written},
                                {"kept_bytes", result.kept_bytes},
                                {"rewritten_tar_bytes", result.rewritten_tar_bytes},
                                {"archive_bytes", result.archive_bytes},
                                {"content_digest", result.content_digest},
                                {"etag", string_or_null(result.etag)}};
  return json_text(doc);
}

}  // namespace smpack
