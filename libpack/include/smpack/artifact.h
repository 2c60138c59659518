// A model artifact, opened once: a model directory or S3 prefix, an smpack archive
// (read through its index) or any other archive (streamed), on disk or in S3. Every operation that
// reads an artifact goes through it, so the choice between the three is made here only, the file is
// opened once and the index read once. An archive's bytes come through a ByteSource,
// so the same code reads a local file, memory, or an S3 object by ranged GETs.
// Not thread-safe; movable.
#pragma once

#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "smpack/archive_index.h"
#include "smpack/byte_source.h"
#include "smpack/cancel.h"
#include "smpack/manifest.h"
#include "smpack/model_tree.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"
#include "smpack/s3.h"

namespace smpack {

class Artifact {
 public:
  // A directory or an archive file, or an s3:// URL read through `s3`: an object
  // (s3://bucket/key) or an uncompressed layout (s3://bucket/prefix/). io error when it
  // cannot be opened (missing, unreadable, refused); bad_input when it carries a
  // damaged smpack index; usage error for an s3:// URL without a client.
  static Result<Artifact> open(const std::filesystem::path& location, const ReadLimits& limits = {},
                               const S3Client* s3 = nullptr);
  // An archive whose bytes `source` holds; `name` is used in messages.
  static Result<Artifact> open_archive(std::unique_ptr<ByteSource> source, std::string name,
                                       const ReadLimits& limits = {});

  Artifact(Artifact&&) noexcept;
  Artifact& operator=(Artifact&&) noexcept;
  ~Artifact();

  ArtifactKind kind() const;
  const std::string& name() const;
  const ReadLimits& limits() const;
  // The index of an smpack archive; nullptr otherwise.
  const ArchiveIndex* index() const;
  // The archive's bytes; nullptr for a directory or S3 prefix.
  const ByteSource* bytes() const;
  // What it was read from in S3, with the ETags seen: the archive's object, or an S3
  // prefix's listing; empty for a local file or directory.
  std::vector<S3Object> s3_objects() const;

  // One pass: the members, and what `options` asks for. An smpack archive is read
  // through its index (only kept members and weight-file windows are decoded)
  // unless options.check_index; any other archive is streamed once. Corruption is a
  // bad_input Error naming the member.
  Result<ModelTree> visit(const VisitOptions& options) const;

  // The data of one regular-file member (the last one of that path, as an extractor
  // leaves it), in order. usage when the name itself is unsafe; bad_input when there
  // is no such member.
  Result<void> stream_member(std::string_view member_path, const ByteSink& sink,
                             const CancelToken* cancel = nullptr) const;
  // The whole data of one member; bad_input when it is larger than max_bytes.
  Result<std::string> read_member(std::string_view member_path, std::uint64_t max_bytes) const;
  // Random access to one member: files and indexed members are read in place; a
  // member of a streamed archive is read into memory (at most max_bytes).
  Result<std::unique_ptr<ByteSource>> open_member(std::string_view member_path,
                                                  std::uint64_t max_bytes) const;

  // The manifest (members with SHA-256s): from the index of an smpack archive, else
  // by hashing every file.
  Result<Manifest> manifest(const CancelToken* cancel = nullptr,
                            ProgressSink* progress = nullptr) const;

 private:
  struct Impl;
  explicit Artifact(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smpack
