#include "smpack/artifact_digest.h"

#include <chrono>
#include <future>
#include <nlohmann/json.hpp>

#include "smpack/digest.h"
#include "util/json_text.h"

namespace smpack {
namespace {

// The hash that runs beside the manifest pass, with the caller's cancel passed on.
Result<FileDigests> wait_for_hash(std::future<Result<FileDigests>>& hash, const CancelToken* cancel,
                                  CancelToken& stop) {
  while (hash.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
    if (cancel && cancel->cancelled()) stop.cancel();
  }
  return hash.get();
}

}  // namespace

Result<ArtifactDigest> digest_artifact(const Artifact& artifact, std::uint64_t s3_part_size,
                                       const CancelToken* cancel, ProgressSink* progress) {
  ArtifactDigest out;
  out.artifact = artifact.name();
  if (is_layout(artifact.kind()) && s3_part_size) {
    return Error::usage(artifact.name() +
                        " is a directory or S3 prefix; an S3 ETag belongs to an archive");
  }
  const ByteSource* bytes = artifact.bytes();
  // An archive without an index has its manifest from a pass of its own, which is
  // bound by the inflate; a local file is hashed beside that pass rather than after it.
  // An S3 object is not: two streams would split its sequential read-ahead.
  const auto* file = dynamic_cast<const FileByteSource*>(bytes);
  CancelToken stop_hash;  // the manifest failed, or the caller cancelled
  std::future<Result<FileDigests>> beside;
  if (file && !artifact.index()) {
    beside = std::async(std::launch::async,
                        [&] { return digest_bytes(*file, s3_part_size, &stop_hash, nullptr); });
  }
  auto manifest = artifact.manifest(cancel, beside.valid() ? progress : nullptr);
  if (!manifest) {
    stop_hash.cancel();
    return std::move(manifest).error();
  }
  out.content_digest = manifest->content_digest;
  if (bytes) {
    auto digests = beside.valid() ? wait_for_hash(beside, cancel, stop_hash)
                                  : digest_bytes(*bytes, s3_part_size, cancel, progress);
    if (!digests) return std::move(digests).error();
    out.archive_bytes = digests->bytes;
    out.sha256 = digests->sha256;
    out.s3_part_size = s3_part_size;
    out.s3_etag = digests->s3_etag;
  }
  return out;
}

std::string digest_json(const ArtifactDigest& digest) {
  nlohmann::ordered_json doc = {{"archive", digest.artifact},
                                {"archive_bytes", digest.archive_bytes},
                                {"sha256", string_or_null(digest.sha256)},
                                {"content_digest", digest.content_digest}};
  if (digest.s3_part_size) {
    doc["s3_etag"] = digest.s3_etag;
    doc["s3_part_size"] = digest.s3_part_size;
  }
  return json_text(doc);
}

}  // namespace smpack
