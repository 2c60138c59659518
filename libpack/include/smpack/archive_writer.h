// Writes the smpack archive (docs/format.md): a POSIX tar in canonical order with
// normalised metadata, compressed as independent gzip members (large files cut
// into fixed-size chunks, so the bytes never depend on the thread count), every
// member's SHA-256 taken in the same pass, the index at the end, written to a
// temporary file that is fsynced and renamed only on success.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "smpack/archive_output.h"
#include "smpack/cancel.h"
#include "smpack/entry.h"
#include "smpack/manifest.h"
#include "smpack/result.h"

namespace smpack {

// 1980-01-01T00:00:00Z: the default member mtime (zip's epoch; some tools treat 0 as unset).
inline constexpr std::int64_t kDefaultMtime = 315532800;
inline constexpr std::uint64_t kDefaultChunkBytes = 1 << 20;
inline constexpr int kDefaultLevel = 1;

enum class SymlinkPolicy { refuse, follow };

// What goes into an archive: a model directory, and optionally the code to put
// under code/ (a directory, an entry point file, a requirements file).
struct SourceSpec {
  std::filesystem::path model_dir;
  std::optional<std::filesystem::path> code_dir;
  std::optional<std::filesystem::path> entry_point;   // copied to code/<its name>
  std::optional<std::filesystem::path> requirements;  // copied to code/requirements.txt
  SymlinkPolicy symlinks = SymlinkPolicy::refuse;
  // Left out, with everything under them: shell patterns (fnmatch, `*` matching `/` too,
  // as `tar --exclude`) tried on each name and on each path relative to the folder read
  // (the model directory or the code folder); and kDefaultExcludes unless
  // !default_excludes.
  std::vector<std::string> exclude;
  bool default_excludes = true;

  bool has_code() const;  // any of code_dir, entry_point, requirements
  // A code folder replaces all of code/, as the SDK's source_dir does; an entry point or
  // requirements file alone is added to the code/ already there (replacing a file of
  // its name), as the SDK's entry_point-only repack copies the script into code/
  // (sagemaker/utils.py, _create_or_update_code_dir).
  bool replaces_code() const { return code_dir.has_value(); }
};

// What build, stage and add-code leave out of a folder unless told otherwise: files no
// model or handler needs, which layout-junk names.
inline constexpr std::string_view kDefaultExcludes[] = {".git", "__pycache__", ".ipynb_checkpoints",
                                                        ".DS_Store"};

// Whether `relative_path` (under the folder read) is left out by `spec`'s excludes.
bool is_excluded(std::string_view relative_path, const SourceSpec& spec);

struct SourceFile {
  std::string archive_path;  // normalised, no trailing '/'
  std::filesystem::path disk_path;
  EntryType type = EntryType::file;  // file or directory
  std::uint32_t mode = 0;            // normalised: 0755 for directories and executables, else 0644
  std::uint64_t size = 0;
};

// The members in canonical order: bytewise by path components, code/ last. Code the
// spec names replaces the model directory's own code/ (the directory is not changed).
// io: a path that does not exist; usage: a file where a folder belongs, or a code file
// named twice; bad_input: a symlink under `refuse`, a special file, a symlink loop.
Result<std::vector<SourceFile>> collect_sources(const SourceSpec& spec);

// Only the code/ part of `spec` (model_dir is not read), in canonical order:
// the "code" directory and what code_dir, entry_point and requirements put under it.
// Empty when the spec names no code.
Result<std::vector<SourceFile>> collect_code_sources(const SourceSpec& spec);

// Whether applying `spec` (whose collect_code_sources is `given`) removes or replaces
// the member at `path`: every code/ member when it replaces code/, else the "code"
// folder itself and the files it names again.
bool replaced_by_code(std::string_view path, const SourceSpec& spec,
                      const std::vector<SourceFile>& given);
// The code/ that results from applying `given` over `existing` (the code/ there now,
// collected): `given` alone when the spec replaces code/, else `existing` with the
// given files added or replacing theirs. Canonical order.
std::vector<SourceFile> apply_code(std::vector<SourceFile> existing, std::vector<SourceFile> given,
                                   const SourceSpec& spec);

// True for "code" and everything under "code/".
bool is_code_path(std::string_view archive_path);
// The canonical member order: bytewise by path components, code/ last.
bool canonical_order(std::string_view a, std::string_view b);
// The mode smpack stores: 0755 for directories and anything executable, else 0644.
std::uint32_t normalised_mode(EntryType type, std::uint32_t mode);

struct WriteOptions {
  int level = kDefaultLevel;  // 0 stored, 1-3 ISA-L (1: Huffman-only for weights), 4-9 zlib
  unsigned threads = 0;       // compression threads; 0 = all cores
  std::int64_t mtime = kDefaultMtime;
  std::uint64_t chunk_bytes = kDefaultChunkBytes;
  // The SHA-256 of the whole archive file (Manifest::archive_sha256): one more
  // sequential pass over every byte written. Without it the manifest still holds every
  // member's SHA-256 and the content digest; archive_sha256 is then empty.
  bool archive_sha256 = true;
  // A local output is flushed to disk (fsync) before it is renamed into place; false
  // for one that is uploaded or copied at once, where a crash costs only a rerun.
  bool durable = true;
  const CancelToken* cancel = nullptr;
  ProgressSink* progress = nullptr;  // bytes of member data read
};

struct WriteResult {
  Manifest manifest;  // with archive_sha256 and archive_bytes
  std::uint64_t tar_bytes = 0;
  std::uint64_t gzip_members = 0;
};

// Writes `sources` to `output` and commits it. A file that changes size while being
// read is bad_input; interrupted when the token is cancelled (nothing is left).
Result<WriteResult> write_archive(const std::vector<SourceFile>& sources, ArchiveOutput& output,
                                  const WriteOptions& options);
// The same into a local file, atomically.
Result<WriteResult> write_archive(const std::vector<SourceFile>& sources,
                                  const std::filesystem::path& output, const WriteOptions& options);

// About how many bytes an archive of `sources` takes at most (all of their data, plus
// tar and gzip framing), for choosing an upload's part size.
std::uint64_t expected_archive_bytes(const std::vector<SourceFile>& sources);

}  // namespace smpack
