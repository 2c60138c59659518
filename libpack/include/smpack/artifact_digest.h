// What `smpack digest` prints: the archive's SHA-256 (and the S3 ETag it will have),
// and the content digest of its members, which is the same for an archive and the
// directory it was built from.
#pragma once

#include <cstdint>
#include <string>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

struct ArtifactDigest {
  std::string artifact;
  std::uint64_t archive_bytes = 0;  // 0 for a directory
  std::string sha256;               // the archive file's; empty for a directory
  std::string content_digest;
  std::uint64_t s3_part_size = 0;  // 0: no ETag asked for
  std::string s3_etag;
};

// One pass over the archive's bytes for the SHA-256 (and ETag); the content digest
// comes from the index of an smpack archive, else from one more pass (for a local
// file, the SHA-256 pass then runs on a thread beside it, and `progress` follows the
// manifest's pass). A directory has a content digest only; asking for its ETag is a
// usage error.
Result<ArtifactDigest> digest_artifact(const Artifact& artifact, std::uint64_t s3_part_size,
                                       const CancelToken* cancel = nullptr,
                                       ProgressSink* progress = nullptr);

// {"archive", "archive_bytes", "sha256", "content_digest"[, "s3_etag", "s3_part_size"]}.
std::string digest_json(const ArtifactDigest& digest);

}  // namespace smpack
