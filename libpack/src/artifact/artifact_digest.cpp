#include "smpack/artifact_digest.h"

#include <future>
#include <nlohmann/json.hpp>

#include "smpack/digest.h"
#include "util/json_text.h"

namespace smpack {

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
  // bound by the inflate; a local file is hashed beside that pass, on another thread.
  // An S3 object is not: two streams would split its sequential read-ahead.
  std::future<Result<FileDigests>> beside;
  if (bytes && !artifact.index() && artifact.s3_objects().empty()) {
    beside = std::async(std::launch::async,
                        [&] { return digest_bytes(*bytes, s3_part_size, cancel, nullptr); });
  }
  auto manifest = artifact.manifest(cancel, beside.valid() ? progress : nullptr);
  if (!manifest) return std::move(manifest).error();  // once the hash has stopped
  out.content_digest = manifest->content_digest;
  if (bytes) {
    auto digests =
        beside.valid() ? beside.get() : digest_bytes(*bytes, s3_part_size, cancel, progress);
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
