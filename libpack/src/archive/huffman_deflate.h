// A deflate encoder for data that LZ77 cannot shorten, such as tensor weights: one
// dynamic-Huffman block (RFC 1951, 3.2.7) of literals, with runs of a repeated byte as
// matches at distance 1. It spends no time looking for matches, which on bfloat16 or
// float32 weights find almost nothing, and so runs at about twice the speed of ISA-L's
// level 1 for the same output size (bench/RESULTS.md). Every code it writes is a complete
// prefix code, as strict decoders and deflate_block_finder.h expect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace smpack {

// Appends `input` as one final deflate block to `out`, and true; false, with `out` as it
// was, when that block would not be smaller than stored blocks. The bytes depend on
// `input` alone.
bool append_huffman_deflate(std::span<const std::byte> input, std::vector<std::byte>& out);

// Code lengths of a length-limited Huffman code for `frequencies`, into `lengths` (the
// same size): 0 for a symbol of frequency 0. The code is complete: when a single symbol
// occurs, a second one (the lowest other symbol) gets a length of 1 beside it.
void huffman_code_lengths(std::span<const std::uint32_t> frequencies, unsigned max_length,
                          std::span<std::uint8_t> lengths);

}  // namespace smpack
