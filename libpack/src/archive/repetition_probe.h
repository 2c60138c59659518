// Whether LZ77 pays on a chunk, judged from samples of it: the choice between ISA-L's
// deflate and the Huffman-only one (huffman_deflate.h) at level 1. Tensor weights repeat
// almost no 4-byte string within a few KiB; text, code, tar headers and zero padding
// repeat many. The samples see repeats up to 4 KiB apart only, where deflate's window
// reaches 32 KiB: gzip_codec.cpp hands a chunk that the Huffman-only block shrinks by
// less than 1/32 to ISA-L.
#pragma once

#include <cstddef>
#include <span>

namespace smpack {

// Chunks smaller than this always go to LZ77: they are text and metadata far more often
// than weights, and matching costs them little time.
inline constexpr std::size_t kRepetitionProbeMinBytes = 64 << 10;

// True for chunks under kRepetitionProbeMinBytes, and for those where more than 1 in 16
// of the 4 x 4,093 positions probed, in four 4 KiB samples spread over `bytes`, starts a
// 4-byte string that the last earlier position of its sample with the same 12-bit hash
// also starts. Depends on `bytes` alone.
bool lz77_pays(std::span<const std::byte> bytes);

}  // namespace smpack
