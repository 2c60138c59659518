// Encoding of ArchiveIndex into gzip members (see docs/format.md):
//   index members:  empty gzip members, FEXTRA subfield "SI" = a slice of the index JSON
//   trailer member: an empty gzip member, FEXTRA subfield "SX" = 40 bytes:
//     "SMPACKIX" | u32 version | u32 CRC-32 of the JSON | u64 index offset |
//     u64 index bytes (compressed, trailer excluded) | u64 JSON bytes   (little-endian)
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "smpack/archive_index.h"

namespace smpack {

inline constexpr std::size_t kTrailerMemberBytes = 66;

// The uncompressed tar bytes one content gzip member may hold (the writer's --chunk-size
// range); a member of the largest chunk may also carry the next member's tar header.
inline constexpr std::uint64_t kMinChunkBytes = 4096;
inline constexpr std::uint64_t kMaxChunkBytes = 256ull << 20;
inline constexpr std::uint64_t kMaxMemberTarBytes = kMaxChunkBytes + (64ull << 10);

// The ten fixed header bytes of every gzip member smpack writes: content members
// (no flags, mtime 0, OS unknown) and the index's empty members (FEXTRA set).
inline constexpr std::array<std::uint8_t, 10> kSmpackMemberHeader = {0x1f, 0x8b, 8, 0, 0,
                                                                     0,    0,    0, 0, 255};
inline constexpr std::array<std::uint8_t, 10> kSmpackIndexMemberHeader = {0x1f, 0x8b, 8, 4, 0,
                                                                          0,    0,    0, 0, 255};

struct EncodedIndex {
  std::vector<std::byte> bytes;    // the index members and the trailer member
  std::uint32_t gzip_members = 0;  // how many gzip members those are
};

// The index and trailer members for `index`, whose index_offset must be set.
EncodedIndex encode_index(const ArchiveIndex& index);

}  // namespace smpack
