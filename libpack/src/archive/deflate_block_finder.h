// Where a deflate block may start, for decoding a gzip member from its middle
// (parallel_gzip_inflate.h). A dynamic-Huffman block (RFC 1951, 3.2.7) carries its codes
// in its header, and a random bit offset rarely holds a header that is valid in full:
// code lengths that form complete prefix codes, an end-of-block code, no repeat before
// a first length and none past the declared counts. Stored and fixed-code blocks carry
// too little to check and are not looked for. A candidate can still be false; callers
// confirm it by decoding up to it from a known start.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>

namespace smpack {

// Whether a dynamic block's header that is valid in full starts at bit offset `at` of
// `bytes` (bit 0 is the lowest bit of bytes[0], as deflate reads them) and lies within
// `bytes`.
bool is_dynamic_block_header(std::span<const std::byte> bytes, std::uint64_t at);

// The first bit offset in [from_bit, until_bit) where is_dynamic_block_header holds;
// cheap checks reject almost every offset before the full one.
std::optional<std::uint64_t> find_dynamic_block(std::span<const std::byte> bytes,
                                                std::uint64_t from_bit, std::uint64_t until_bit);

}  // namespace smpack
