// Where an archive's bytes go, front to back: a local file (written beside the target,
// fsynced and renamed) or an S3 object (a multipart upload). Nothing appears at the
// destination unless commit() succeeds; an output dropped before that leaves none of
// itself behind (the temporary file removed, the multipart upload aborted).
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "smpack/byte_source.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

class S3Client;

class ArchiveOutput {
 public:
  virtual ~ArchiveOutput() = default;
  virtual const std::string& name() const = 0;
  virtual Result<void> write(std::span<const std::byte> bytes) = 0;
  // Appends bytes [offset, offset + length) of `source`. The default reads and writes
  // them; a local file reads them straight into its write buffer, an S3 upload copies
  // server-side (UploadPartCopy) what it can of an object in the same store.
  virtual Result<void> copy_from(const ByteSource& source, std::uint64_t offset,
                                 std::uint64_t length, const CancelToken* cancel);
  virtual Result<void> commit() = 0;
  // After commit: the ETag S3 reports for an upload; "" for a file.
  virtual std::string etag() const { return {}; }
};

struct ArchiveOutputOptions {
  // About how large the archive will be; an upload chooses its part size from it (0:
  // unknown, the smallest parts).
  std::uint64_t expected_bytes = 0;
  const CancelToken* cancel = nullptr;
  bool durable = true;  // a local file: fsync before the rename (WriteOptions::durable)
};

// A path, or an s3://bucket/key through `s3` (usage error without one, or for a prefix).
Result<std::unique_ptr<ArchiveOutput>> open_archive_output(const std::string& location,
                                                           const S3Client* s3,
                                                           const ArchiveOutputOptions& options);

}  // namespace smpack
