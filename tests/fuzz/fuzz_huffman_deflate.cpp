// The Huffman-only deflate encoder on arbitrary content: whatever a weight file holds,
// the block it writes must hold complete codes and decode, with zlib and with ISA-L, to
// exactly that content, ending exactly where the encoder said it would.
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <span>
#include <vector>

#include "archive/deflate_block_finder.h"
#include "archive/huffman_deflate.h"

namespace {

bool zlib_decodes_exactly(const std::vector<std::byte>& block, const std::uint8_t* data,
                          std::size_t size) {
  std::vector<std::uint8_t> decoded(size + 1);
  z_stream z{};
  if (inflateInit2(&z, -MAX_WBITS) != Z_OK) std::abort();
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(block.data()));
  z.avail_in = static_cast<uInt>(block.size());
  z.next_out = decoded.data();
  z.avail_out = static_cast<uInt>(decoded.size());
  const int rc = inflate(&z, Z_FINISH);
  const bool exact = rc == Z_STREAM_END && z.avail_in == 0 && z.total_out == size &&
                     std::memcmp(decoded.data(), data, size) == 0;
  inflateEnd(&z);
  return exact;
}

bool isal_decodes(const std::vector<std::byte>& block, const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> decoded(size + 1);
  inflate_state state{};
  isal_inflate_init(&state);
  state.crc_flag = ISAL_DEFLATE;
  state.next_in = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(block.data()));
  state.avail_in = static_cast<std::uint32_t>(block.size());
  state.next_out = decoded.data();
  state.avail_out = static_cast<std::uint32_t>(decoded.size());
  return isal_inflate(&state) == ISAL_DECOMP_OK && state.block_state == ISAL_BLOCK_FINISH &&
         state.total_out == size && std::memcmp(decoded.data(), data, size) == 0;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::byte> block;
  if (!smpack::append_huffman_deflate(std::as_bytes(std::span(data, size)),
                                      std::numeric_limits<std::size_t>::max(), block)) {
    if (size != 0) std::abort();  // with no limit, only empty input is refused
    return 0;
  }
  // The block finder looks 14 bits past each symbol of a header: a longer block only.
  if (block.size() >= 64 && !smpack::is_dynamic_block_header(block, 0)) std::abort();
  if (!zlib_decodes_exactly(block, data, size) || !isal_decodes(block, data, size)) std::abort();
  return 0;
}
