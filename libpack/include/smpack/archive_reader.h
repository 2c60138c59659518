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
#include <vector>

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

// A point between two deflate blocks of a gzip member (or the start of its deflate
// data), where decoding can resume and where a new block can be spliced in
// (docs/format.md, "Spliced archives").
struct DeflateBoundary {
  std::uint64_t member = 0;              // gzip member index, from 0
  std::uint64_t member_file_offset = 0;  // where that member's header starts
  std::uint64_t member_tar_offset = 0;   // decoded offset of that member's first byte
  std::uint64_t bit_offset = 0;          // in the file, where the next block's header starts
  std::uint64_t tar_offset = 0;          // decoded offset of the next block's first byte
  std::uint32_t crc = 0;                 // CRC-32 of the member's bytes before tar_offset
  std::vector<std::byte> window;         // up to 32 KiB decoded just before tar_offset
};
// Called at every boundary, `window` empty; `fetch_window` returns it (a 32 KiB copy,
// so an observer takes it only for the boundaries it keeps).
using DeflateBoundaryObserver = std::function<void(
    const DeflateBoundary& at, const std::function<std::vector<std::byte>()>& fetch_window)>;

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
  // open_source with observers of a gzip input, set before libarchive's first read:
  // every gzip member as it completes, and (when given) every deflate block boundary as
  // it is decoded (zlib's inflate instead of ISA-L's, about half the speed).
  struct GzipObservers {
    std::function<void(const GzipMemberInfo&)> member;
    DeflateBoundaryObserver boundary;
  };
  static Result<ArchiveReader> open_source_observed(const ByteSource& source,
                                                    std::string display_name,
                                                    const ReadLimits& limits,
                                                    GzipObservers observers);
  // A plain tar stream that `pull` yields (0 at its end).
  static Result<ArchiveReader> open_tar_stream(
      std::function<Result<std::size_t>(std::span<std::byte>)> pull, std::string display_name,
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
