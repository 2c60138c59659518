// Whether LZ77 would find repeats in a chunk, judged from samples of it: the choice
// between ISA-L's deflate and the Huffman-only one (huffman_deflate.h) at level 1.
// Tensor weights repeat almost no 4-byte string within a few KiB; text, code, tar
// headers and zero padding repeat many.
#pragma once

#include <cstddef>
#include <span>

namespace smpack {

// Chunks smaller than this always count as repetitive: they are text and metadata far
// more often than weights, and LZ77 costs them little time.
inline constexpr std::size_t kRepetitionProbeMinBytes = 64 << 10;

// True when more than 1 in 16 positions of four 4 KiB samples, spread over `bytes`,
// starts a 4-byte string seen earlier in its sample. Depends on `bytes` alone.
bool has_local_repeats(std::span<const std::byte> bytes);

}  // namespace smpack
