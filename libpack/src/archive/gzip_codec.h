// Gzip members (RFC 1952) as smpack writes them: MTIME 0, no file name, OS 255,
// so that the bytes depend on the input and the level alone. Levels: 0 stored
// deflate blocks; 1 Huffman-only (huffman_deflate.h) for input without local repeats,
// such as tensor weights, and ISA-L (igzip) for the rest; 2-3 ISA-L; 4-9 zlib.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "smpack/result.h"

namespace smpack {

inline constexpr int kMinLevel = 0;
inline constexpr int kMaxLevel = 9;
inline constexpr std::size_t kGzipHeaderBytes = 10;
inline constexpr std::size_t kGzipTrailerBytes = 8;

std::uint32_t crc32_of(std::span<const std::byte> bytes, std::uint32_t seed = 0);

// Appends one complete gzip member holding `input` to `out`. Thread-safe.
Result<void> append_gzip_member(std::span<const std::byte> input, int level,
                                std::vector<std::byte>& out);

// Appends a gzip member with no content whose FEXTRA field holds one subfield
// (`id`, `payload`); payload.size() <= kMaxExtraPayload. Readers skip it as empty.
inline constexpr std::size_t kMaxExtraPayload = 65535 - 4;
void append_empty_member_with_extra(std::string_view id, std::span<const std::byte> payload,
                                    std::vector<std::byte>& out);

}  // namespace smpack
