// A strict reader for zip archives (PKWARE APPNOTE 6.3): PyTorch checkpoints,
// TorchScript files and .npz are zips.
//
// Layout: [local header + data (+ data descriptor)]... central directory, [zip64 end
// record, zip64 locator], end of central directory (EOCD, last 22 + comment bytes).
// Loaders disagree on which of the two copies of each name and size they trust, so
// this reader requires the central directory and every local header to agree, and
// reports duplicate (also case-folded) names, overlapping members, flag bits and CRC
// mismatches as problems: a scanner that reads another member than the loader is
// the classic bypass.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"

namespace smpack {

struct ZipLimits {
  std::uint64_t max_entries = 200'000;
  std::uint64_t max_central_directory_bytes = 64ull << 20;
};

struct ZipEntry {
  std::string name;  // as the central directory spells it
  std::uint16_t flags = 0;
  std::uint16_t method = 0;  // 0 stored, 8 deflated
  std::uint32_t crc32 = 0;
  std::uint64_t compressed_size = 0;
  std::uint64_t uncompressed_size = 0;
  std::uint64_t local_header_offset = 0;
  std::uint64_t data_offset = 0;  // first byte of the member's data; valid if located
  bool located = false;           // the local header was read and agrees with the directory
};

struct ZipDirectory {
  std::vector<ZipEntry> entries;  // central directory order
  // Messages start with the display name given to read_zip_directory.
  std::vector<WeightProblem> problems;
  bool complete = true;  // false if bytes were not available or the structure broke off
};

// Reads the end record, the central directory and all local headers.
// Error only when the source fails (Error::io); malformed or partly available
// archives give a ZipDirectory with problems and whatever entries could be read.
Result<ZipDirectory> read_zip_directory(const ByteSource& source, std::string_view display_name,
                                        const ZipLimits& limits = {});

struct ZipMemberData {
  std::vector<std::byte> bytes;         // the uncompressed content, up to max_bytes
  std::vector<WeightProblem> problems;  // CRC or size mismatch, bad deflate, not available
  bool complete = false;                // all of it was read and its CRC and size checked out
};

// Uncompresses a located member into memory, at most max_bytes of it (a cap_exceeded
// problem when it is longer). Error only when the source fails.
Result<ZipMemberData> read_zip_member(const ByteSource& source, const ZipEntry& entry,
                                      std::string_view display_name, std::uint64_t max_bytes);

// Uncompresses a located member chunk by chunk into `sink` (for example to check the
// CRC of a multi-GiB record without holding it) and returns its problems; the
// result's `bytes` stay empty.
Result<ZipMemberData> stream_zip_member(
    const ByteSource& source, const ZipEntry& entry, std::string_view display_name,
    const std::function<void(std::span<const std::byte>)>& sink);

}  // namespace smpack
