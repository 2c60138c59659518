// Streams the members of a tar, gzip tar (or xz/zstd/bzip2 tar) archive without
// touching the disk. Gzip is decoded by smpack itself (ISA-L, every member's CRC-32
// and length checked, truncation and trailing bytes reported); tar headers are
// parsed by libarchive. Zip files and unknown data are refused with a message that
// says what the file is. Not thread-safe; movable, not copyable.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>

#include "smpack/byte_source.h"
#include "smpack/container_kind.h"
#include "smpack/entry.h"
#include "smpack/read_limits.h"
#include "smpack/result.h"

namespace smpack {

// What the first gzip member's header says (RFC 1952), for telling who wrote a file.
struct GzipHeaderInfo {
  bool present = false;
  std::uint32_t mtime = 0;
  std::uint8_t os = 255;
  std::uint8_t extra_flags = 0;
  std::string file_name;  // FNAME, empty when absent
  bool has_extra = false;
};

// One gzip member, reported once its CRC-32 and length have been checked.
struct GzipMemberInfo {
  std::uint64_t file_offset = 0;
  std::uint64_t file_bytes = 0;
  std::uint64_t decoded_bytes = 0;
  std::array<std::uint8_t, 10> fixed_header{};  // the first ten header bytes as stored
};

class ArchiveReader {
 public:
  static Result<ArchiveReader> open_file(const std::filesystem::path& path,
                                         const ReadLimits& limits = {});
  // `bytes` must outlive the reader. `display_name` is used in messages.
  static Result<ArchiveReader> open_memory(std::span<const std::byte> bytes,
                                           std::string display_name, const ReadLimits& limits = {});
  // Reads `source` from its start, sequentially; it must outlive the reader.
  static Result<ArchiveReader> open_source(const ByteSource& source, std::string display_name,
                                           const ReadLimits& limits = {});

  ArchiveReader(ArchiveReader&&) noexcept;
  ArchiveReader& operator=(ArchiveReader&&) noexcept;
  ~ArchiveReader();

  // The next member's header, or nullptr after the last one. The pointer is
  // valid until the next call. Unread data of the previous member is skipped.
  Result<const Entry*> next();

  // Reads up to out.size() data bytes of the current member; 0 at its end.
  Result<std::size_t> read(std::span<std::byte> out);

  // All data of the current member; bad_input when it is larger than max_bytes.
  Result<std::string> read_all(std::uint64_t max_bytes);

  // Called for every gzip member as it completes (gzip input only).
  void set_gzip_member_observer(std::function<void(const GzipMemberInfo&)> observer);

  ContainerKind container() const;
  const GzipHeaderInfo& gzip_header() const;
  // libarchive's name for the tar dialect seen so far ("GNU tar format", "POSIX pax
  // interchange format", ...); empty before the first header.
  std::string tar_format() const;
  std::uint64_t gzip_members() const;        // gzip members decoded so far
  std::uint64_t compressed_bytes() const;    // bytes of the input consumed so far
  std::uint64_t uncompressed_bytes() const;  // tar stream bytes decoded so far
  const std::string& display_name() const;

 private:
  struct Impl;
  explicit ArchiveReader(std::unique_ptr<Impl> impl);
  static Result<ArchiveReader> open_owned(std::unique_ptr<ByteSource> source,
                                          std::string display_name, const ReadLimits& limits);
  std::unique_ptr<Impl> impl_;
};

}  // namespace smpack
