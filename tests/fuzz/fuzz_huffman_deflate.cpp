// The Huffman-only deflate encoder on arbitrary content: whatever a weight file holds,
// the block it writes must decode, with zlib, to exactly that content and end exactly
// where the encoder said it would.
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <span>
#include <vector>

#include "archive/huffman_deflate.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> block;
  if (!smpack::append_huffman_deflate(std::as_bytes(std::span(data, size)), block)) return 0;
  std::vector<std::uint8_t> decoded(size + 1);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) std::abort();
  z.next_in = reinterpret_cast<Bytef*>(block.data());
  z.avail_in = static_cast<uInt>(block.size());
  z.next_out = decoded.data();
  z.avail_out = static_cast<uInt>(decoded.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool exact = rc == Z_STREAM_END && z.avail_in == 0 && z.total_out == size &&
                     (size == 0 || std::memcmp(decoded.data(), data, size) == 0);
  inflateEnd(&z);
  if (!exact) std::abort();
  return 0;
}
