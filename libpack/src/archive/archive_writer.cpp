#include "smpack/archive_writer.h"

#include "archive/index_codec.h"
#include "archive/member_appender.h"
#include "io/file_io.h"
#include "smpack/digest.h"

namespace smpack {

namespace {

// Checked before any output exists, so that a bad option leaves nothing to clean up.
Result<void> check_write_options(const WriteOptions& options) {
  if (options.level < 0 || options.level > 9) {
    return Error::usage("compression level must be 0-9, got " + std::to_string(options.level));
  }
  if (options.chunk_bytes < kMinChunkBytes || options.chunk_bytes > kMaxChunkBytes) {
    return Error::usage("chunk size must be between 4 KiB and 256 MiB");
  }
  return {};
}

}  // namespace

std::uint64_t expected_archive_bytes(const std::vector<SourceFile>& sources) {
  std::uint64_t bytes = 1 << 20;  // the index and the end of the archive
  // Stored deflate blocks at worst: 5 bytes per 64 KiB, plus headers per member.
  for (const auto& source : sources) bytes += source.size + source.size / 8192 + 2048;
  return bytes;
}

Result<WriteResult> write_archive(const std::vector<SourceFile>& sources,
                                  const std::filesystem::path& output,
                                  const WriteOptions& options) {
  if (auto valid = check_write_options(options); !valid) return std::move(valid).error();
  auto out = open_archive_output(output.string(), nullptr, {0, options.cancel, options.durable});
  if (!out) return std::move(out).error();
  return write_archive(sources, **out, options);
}

Result<WriteResult> write_archive(const std::vector<SourceFile>& sources, ArchiveOutput& out,
                                  const WriteOptions& options) {
  if (auto valid = check_write_options(options); !valid) return std::move(valid).error();
  Hasher archive_sha;
  ArchiveIndex index;
  MemberAppender appender(
      [&](std::span<const std::byte> bytes) -> Result<void> {
        if (options.archive_sha256) archive_sha.update(bytes);
        return out.write(bytes);
      },
      index, options);
  if (auto r = appender.append(sources); !r) return std::move(r).error();
  if (auto r = appender.finish(); !r) return std::move(r).error();
  if (options.cancel && options.cancel->cancelled()) return Error::interrupted();
  if (auto r = out.commit(); !r) return std::move(r).error();

  WriteResult result;
  result.manifest.entries = index.manifest_entries();
  result.manifest.content_digest = content_digest(result.manifest.entries);
  if (options.archive_sha256) result.manifest.archive_sha256 = archive_sha.finish_hex();
  result.manifest.archive_bytes = appender.file_offset();
  result.tar_bytes = index.members.back().tar_offset + index.members.back().tar_bytes;
  result.gzip_members = index.members.size() + index.index_gzip_members;
  return result;
}

}  // namespace smpack
