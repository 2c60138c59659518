// An uncompressed layout written into S3: build's path for an s3://bucket/prefix/ output.
#pragma once

#include <vector>

#include "smpack/build.h"
#include "smpack/s3.h"

namespace smpack {

// Uploads `sources` (files; directories are implied by the keys) under `prefix`, four
// at a time: a file up to 16 MiB as one PutObject, a larger one as a multipart upload
// (S3MultipartUpload). Fills report.uploaded, report.manifest (paths, modes, sizes,
// SHA-256s), report.manifest_key and report.model_data_source.
Result<void> upload_layout(const std::vector<SourceFile>& sources, const S3Url& prefix,
                           const S3Client& s3, const CancelToken* cancel, BuildReport& report);

}  // namespace smpack
