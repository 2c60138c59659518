// Adds or replaces code/ in an existing archive without the SDK's full
// unpack-and-repack. `code` replaces the whole code/ folder (the SDK's
// semantics, made explicit: old files not in the new code disappear and are
// listed). The result never holds duplicate members.
//
// - smpack archive, in place: only the tail (old code/ members and the index) is
//   rewritten; time and bytes depend on the code, not the weights. The old tail
//   is kept in ARCHIVE.smpack-tail until the new one is fsynced, and put back on
//   any error or interrupt.
// - smpack archive, to another file: the unchanged members are copied as
//   compressed bytes (read into the output's buffer; ArchiveOutput::copy_from), then
//   the new tail is written.
// - any other gzip tar (one pass, nothing extracted to disk): spliced. Every compressed
//   byte before the old code/ (or the end of the tar stream) is kept; the gzip member
//   holding that point is ended there; the members after it (normalised as in `build`),
//   the new code/ and an index follow, so a later add-code rewrites only that tail. In
//   place, the file is truncated at the splice point and the old tail saved until the
//   new one is fsynced, as above.
// - a plain, xz, zstd or bzip2 tar: one streaming pass; members keep their order (code/
//   last), metadata is normalised as in `build`; the output is an smpack archive.
// Foreign archives holding symlinks, hardlinks, special files, unsafe names or duplicate
// members are refused. Outputs to another file are written atomically (temp + rename).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "smpack/archive_writer.h"
#include "smpack/lint.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"
#include "smpack/s3.h"

namespace smpack {

enum class AddCodeMethod { tail_rewrite, copy_and_tail, stream_rewrite, splice };
std::string_view describe(AddCodeMethod method);

struct AddCodeResult {
  AddCodeMethod method = AddCodeMethod::tail_rewrite;
  std::vector<std::string> removed;   // in the old code/, not in the new
  std::vector<std::string> replaced;  // in both, with different content or mode
  std::vector<std::string> added;     // only in the new code/
  std::uint64_t bytes_written = 0;    // bytes this call wrote (copies included)
  std::uint64_t archive_bytes = 0;
  std::uint64_t kept_bytes = 0;           // bytes of the old file kept as they were, at its start
  std::uint64_t rewritten_tar_bytes = 0;  // old tar bytes decoded and compressed again
  std::string content_digest;
  std::optional<LintReport> refused;  // the lint gate's report when it refused: nothing written
  std::string etag;                   // an S3 output's ETag
};

struct AddCodeOptions {
  WriteOptions write;
  ReadLimits limits;
  bool lint = true;  // the lint gate (lint_gate), on the archive as it will be
  // For s3:// archives and outputs: an smpack archive's unchanged members are copied
  // server-side (UploadPartCopy), so only the code moves.
  const S3Client* s3 = nullptr;
};

// `code` uses code_dir / entry_point / requirements (model_dir is ignored).
// `output` empty: in place. usage when `code` names no code.
Result<AddCodeResult> add_code(const std::filesystem::path& archive, const SourceSpec& code,
                               const std::optional<std::filesystem::path>& output,
                               const AddCodeOptions& options);

// {"archive", "method", "added", "replaced", "removed", "bytes_written", "kept_bytes",
// "rewritten_tar_bytes", "archive_bytes", "content_digest", "etag" (null for a local
// file)} (docs/cli.md); `archive` is the file written.
std::string add_code_json(const std::string& archive, const AddCodeResult& result);

}  // namespace smpack
