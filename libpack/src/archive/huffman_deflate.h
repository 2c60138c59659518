// A deflate encoder for data that LZ77 cannot shorten, such as tensor weights: one
// dynamic-Huffman block (RFC 1951, 3.2.7) of literals, with runs of a repeated byte as
// matches at distance 1. It spends no time looking for matches, which on weights find
// almost nothing: on one core it encodes bfloat16 weights at about twice ISA-L level 1's
// speed and float32 weights at about its speed, to the same size (bench/RESULTS.md).
// Every code it writes is a complete prefix code, as strict decoders and
// deflate_block_finder.h expect.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace smpack {

// Appends `input` as one final deflate block to `out`, and true; false, with `out` as it
// was, when that block would take `smaller_than` bytes or more (the size of stored
// blocks, say), or `input` is empty or 4 GiB or more. The bytes depend on `input` alone.
bool append_huffman_deflate(std::span<const std::byte> input, std::size_t smaller_than,
                            std::vector<std::byte>& out);

// Code lengths of a length-limited Huffman code for `frequencies`, into `lengths`: 0 for
// a symbol of frequency 0. The code is complete: when a single symbol occurs, a second
// one (the lowest other symbol) gets a length of 1 beside it. The caller keeps to what
// deflate's alphabets need: `lengths` as long as `frequencies` and at least 2 long,
// `max_length` at most 15, and at most 2^max_length symbols occurring.
void huffman_code_lengths(std::span<const std::uint32_t> frequencies, unsigned max_length,
                          std::span<std::uint8_t> lengths);

}  // namespace smpack
