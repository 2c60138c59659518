// `smpack build`: a deterministic model.tar.gz from a model directory, behind the
// lint gate that stage and add-code pass too.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "smpack/archive_writer.h"
#include "smpack/lint.h"
#include "smpack/result.h"
#include "smpack/s3.h"
#include "smpack/signing.h"

namespace smpack {

struct BuildOptions {
  WriteOptions write;
  bool lint = true;  // the lint gate (lint_gate), on the model as it will be archived
  // For an s3:// output: the archive is streamed into a multipart upload.
  const S3Client* s3 = nullptr;
  // Signs what was written with the digests computed while writing it (no second pass):
  // BuildReport::signature_bundle.
  const SigningKey* sign_with = nullptr;
};

// One file of an uncompressed layout written to S3.
struct UploadedFile {
  std::string key;
  std::uint64_t size = 0;
  std::string sha256;
  std::string etag;  // checked against the bytes sent
};

struct BuildReport {
  std::string archive;
  std::optional<LintReport> refused;  // the lint gate's report when it refused: nothing written
  Manifest manifest;                  // what was written
  std::uint64_t tar_bytes = 0;
  std::uint64_t gzip_members = 0;
  std::string etag;  // an S3 output's ETag, checked against its parts
  // An uncompressed layout (output s3://bucket/prefix/): the objects written and the
  // manifest object beside the prefix.
  std::vector<UploadedFile> uploaded;
  std::string manifest_key;
  // Written to S3: the ModelDataSource for CreateModel (with the archive's ETag).
  std::string model_data_source;
  // With sign_with: the model signing bundle, and where the caller put it.
  std::string signature_bundle;
  std::string signature_path;
};

// Writes a local file or an s3:// object; or, for s3://bucket/prefix/, the files
// themselves under the prefix (an uncompressed S3ModelDataSource), in parallel, each
// with its SHA-256 checksum, and a manifest as the object PREFIX.smpack-manifest.json
// beside it. usage for a missing model directory or clashing code; see
// collect_sources and write_archive for the rest.
Result<BuildReport> build_archive(const SourceSpec& spec, const std::filesystem::path& output,
                                  const BuildOptions& options);

// {"archive", "archive_bytes", "archive_sha256", "content_digest", "members", "tar_bytes",
// "gzip_members", "etag" (null for a local file), "signature" (null unless signed)}
// (docs/cli.md).
std::string build_json(const BuildReport& report);

// Seconds since the epoch, or a UTC date ("2024-05-01" or "2024-05-01T12:00:00Z");
// usage otherwise.
Result<std::int64_t> parse_mtime(std::string_view text);

// The member mtime of a build: `given` when set (parse_mtime), else SOURCE_DATE_EPOCH's
// value when the caller has one (reproducible-builds.org: a malformed value is a usage
// error, not a silent default), else kDefaultMtime.
Result<std::int64_t> resolve_mtime(const std::optional<std::string>& given,
                                   const std::optional<std::string>& source_date_epoch);

}  // namespace smpack
