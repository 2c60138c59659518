// What one pass over an artifact gathers, the same whether it is a model.tar.gz (any
// writer's) or a model directory such as /opt/ml/model: its members, the contents of
// the small files that rules and `info` read (code, configs, requirements), the
// weight files, and for an archive the facts of its container. Artifact::visit()
// makes it; lint, info, verify, digest and stage read it.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/archive_reader.h"
#include "smpack/cancel.h"
#include "smpack/container_kind.h"
#include "smpack/entry.h"
#include "smpack/manifest.h"
#include "smpack/member_path.h"
#include "smpack/result.h"
#include "smpack/weight_inventory.h"

namespace smpack {

// Where an artifact's members come from.
enum class ArtifactKind {
  directory,         // a model directory on disk
  smpack_archive,    // an archive with an smpack index: members are read by random access
  streamed_archive,  // any other tar or compressed tar: read front to back
  s3_prefix,         // an uncompressed layout in S3 (S3ModelDataSource): one object per file
};
std::string_view name_of(ArtifactKind kind);
// A directory or an S3 prefix: files as they land in /opt/ml/model, no archive.
constexpr bool is_layout(ArtifactKind kind) {
  return kind == ArtifactKind::directory || kind == ArtifactKind::s3_prefix;
}

// One member of an artifact, whatever holds it.
struct Member {
  std::string path;         // normalised (see check_member_path); "" for a root member
  std::string stored_path;  // exactly as stored
  PathProblem path_problem = PathProblem::none;
  EntryType type = EntryType::file;
  std::uint32_t mode = 0;
  std::uint64_t size = 0;
  std::string link_target;
  std::string sha256;  // hex; known from the index, for kept members, and when hashing was asked
  std::string reader_warning;  // libarchive's warning on this member's headers (Entry)
};

// The container facts of an archive (absent for a directory).
struct ArchiveFacts {
  ContainerKind container = ContainerKind::unknown;
  std::string tar_format;
  GzipHeaderInfo gzip;
  std::uint64_t file_bytes = 0;
  std::uint64_t tar_bytes = 0;
  std::uint64_t gzip_members = 0;  // every gzip member of the file, the index's own included
  std::optional<std::uint32_t> index_version;  // smpack archives
  // A spliced archive's kept foreign prefix: its gzip members, read in order only.
  std::uint64_t foreign_prefix_bytes = 0;
  std::string writer;  // "smpack", "SageMaker SDK repack", "Python tarfile", "GNU tar", "unknown"
  std::string writer_evidence;  // why we think so
  // Disagreements between the smpack index and the bytes (only with check_index).
  std::vector<std::string> index_problems;
};

struct ModelTree {
  std::string display_name;  // what the user named
  ArtifactKind source = ArtifactKind::directory;
  std::optional<ArchiveFacts> archive;  // archives only
  std::vector<Member> members;          // archive order; build order for directories
  // Contents of the members selected by VisitOptions::keep_content, by normalised path.
  // For duplicate paths, the last one (the one an extractor leaves on disk) is kept.
  std::map<std::string, std::string, std::less<>> contents;
  // The weight files among the members, in member order (when VisitOptions::weights
  // asked for them).
  std::vector<WeightFileReport> weights;
  bool weights_scanned = false;
  // What stopped the reading (VisitOptions::keep_partial): the members read before it
  // are kept, as bsdtar keeps what it extracted before a bad member.
  std::optional<std::string> read_error;
  bool read_error_ambiguous = false;  // the readers users have would read on differently

  const std::string* content(std::string_view path) const;
  const Member* find(std::string_view path) const;  // the last member with that path
  // Regular files and directories with their digests (SHA-256s as far as known).
  Manifest manifest() const;
};

// [{"path", "stored_path", "type", "mode", "size"[, "link_target"][, "sha256"]}, ...]:
// what `ls --json` prints.
std::string members_json(const std::vector<Member>& members);

// The default selection: everything under code/, *.py anywhere, requirements*.txt
// anywhere, *.json at the root.
bool keep_content_by_default(std::string_view normalized_path, std::uint64_t size);

// A caller's own reading of a streamed archive (one without an smpack index), in the
// same pass as the visit: add-code's splice scan rides on the lint gate's pass, so a
// foreign archive is inflated once.
struct StreamWatch {
  ArchiveReader::GzipObservers gzip;  // the gzip stream's members and block boundaries
  // Before a member's data is read: whether its SHA-256 is wanted. An error ends the
  // visit as a read error does.
  std::function<Result<bool>(const Entry& entry)> wants_sha256;
  // After it: the member as the tree records it (sha256 set when hashed). `entry` is
  // what the tar stream stores, with its offsets.
  std::function<void(const Entry& entry, const Member& member)> member;
};

// What one Artifact::visit() reads besides the member list.
struct VisitOptions {
  std::uint64_t max_content_bytes = 8ull << 20;  // members larger than this are not kept
  // Members whose contents to keep; empty keeps none.
  std::function<bool(std::string_view path, std::uint64_t size)> keep_content =
      keep_content_by_default;
  // nullopt: weight files are not looked at (the fast path of ls and diff).
  std::optional<WeightInventoryOptions> weights;
  // SHA-256 of every regular file (an smpack archive's index already has them).
  bool hash_members = false;
  // With hash_members, an smpack archive too is read from its data: its tar stream,
  // decoded by all cores side by side, is parsed as any tar's, so every member and
  // every digest comes from the bytes and none from the index (sign, verify --signature).
  bool hash_from_data = false;
  // Read an smpack archive front to back and compare every gzip member and member
  // with its index (verify).
  bool check_index = false;
  // Corrupt input ends the visit with what was read so far and ModelTree::read_error
  // instead of an Error (lint and info show what they could read).
  bool keep_partial = false;
  const CancelToken* cancel = nullptr;
  ProgressSink* progress = nullptr;  // archive bytes consumed of the total
  // Called by a visit that streams an archive: always for one without an smpack index;
  // not for a directory, an S3 prefix or a visit through the index.
  const StreamWatch* watch = nullptr;
};

}  // namespace smpack
