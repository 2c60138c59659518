#include "archive/gzip_codec.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <array>
#include <cstring>
#include <memory>

#include "archive/huffman_deflate.h"
#include "archive/index_codec.h"
#include "archive/repetition_probe.h"
#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr std::uint8_t kFlagExtra = 0x04;

void append_stored_blocks(std::span<const std::byte> input, std::vector<std::byte>& out) {
  constexpr std::size_t kMaxStored = 65535;
  do {
    std::size_t n = std::min(kMaxStored, input.size());
    bool last = n == input.size();
    out.push_back(static_cast<std::byte>(last ? 1 : 0));  // BFINAL, BTYPE=00
    append_le(out, static_cast<std::uint32_t>(n), 2);
    append_le(out, static_cast<std::uint32_t>(~n & 0xffff), 2);
    out.insert(out.end(), input.begin(), input.begin() + static_cast<std::ptrdiff_t>(n));
    input = input.subspan(n);
  } while (!input.empty());
}

std::size_t isal_level_buffer_bytes(int level) {
  switch (level) {
    case 1:
      return ISAL_DEF_LVL1_DEFAULT;
    case 2:
      return ISAL_DEF_LVL2_DEFAULT;
    default:
      return ISAL_DEF_LVL3_DEFAULT;
  }
}

// False when the output did not fit: the input is incompressible, and the caller
// writes stored blocks instead (deterministic, since it depends on the input only).
bool append_isal_deflate(std::span<const std::byte> input, int level, std::vector<std::byte>& out) {
  thread_local std::unique_ptr<std::uint8_t[]> level_buffer;
  thread_local std::size_t level_buffer_size = 0;
  std::size_t need = isal_level_buffer_bytes(level);
  if (level_buffer_size < need) {
    level_buffer = std::make_unique<std::uint8_t[]>(need);
    level_buffer_size = need;
  }
  // isal_deflate_stateless_init leaves hist_bits (the match window) and parts of the
  // internal state as it finds them: zeroed first, the bytes do not depend on the stack.
  isal_zstream stream{};
  isal_deflate_stateless_init(&stream);
  stream.level = static_cast<std::uint32_t>(level);
  stream.level_buf = level_buffer.get();
  stream.level_buf_size = static_cast<std::uint32_t>(need);
  stream.end_of_stream = 1;
  stream.flush = NO_FLUSH;
  stream.gzip_flag = IGZIP_DEFLATE;
  stream.next_in = reinterpret_cast<std::uint8_t*>(const_cast<std::byte*>(input.data()));
  stream.avail_in = static_cast<std::uint32_t>(input.size());
  std::size_t start = out.size();
  std::size_t capacity = input.size() + input.size() / 64 + 1024;
  out.resize(start + capacity);
  stream.next_out = reinterpret_cast<std::uint8_t*>(out.data() + start);
  stream.avail_out = static_cast<std::uint32_t>(capacity);
  int rc = isal_deflate_stateless(&stream);
  if (rc != COMP_OK || stream.avail_in != 0) {
    out.resize(start);
    return false;
  }
  out.resize(start + stream.total_out);
  return true;
}

Result<void> append_zlib_deflate(std::span<const std::byte> input, int level,
                                 std::vector<std::byte>& out) {
  z_stream stream{};
  if (deflateInit2(&stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Error::internal("zlib deflateInit2 failed");
  }
  std::size_t start = out.size();
  auto bound = deflateBound(&stream, static_cast<uLong>(input.size()));
  out.resize(start + bound);
  stream.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
  stream.avail_in = static_cast<uInt>(input.size());
  stream.next_out = reinterpret_cast<Bytef*>(out.data() + start);
  stream.avail_out = static_cast<uInt>(bound);
  int rc = deflate(&stream, Z_FINISH);
  out.resize(start + stream.total_out);
  deflateEnd(&stream);
  if (rc != Z_STREAM_END) return Error::internal("zlib deflate did not finish");
  return {};
}

}  // namespace

std::uint32_t crc32_of(std::span<const std::byte> bytes, std::uint32_t seed) {
  return crc32_gzip_refl(seed, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

Result<void> append_gzip_member(std::span<const std::byte> input, int level,
                                std::vector<std::byte>& out) {
  if (level < kMinLevel || level > kMaxLevel) {
    return Error::usage("compression level must be 0-9, got " + std::to_string(level));
  }
  if (input.size() > 0xffffffffu - 4096) {
    return Error::internal("a gzip member larger than 4 GiB was requested");
  }
  for (auto b : kSmpackMemberHeader) out.push_back(static_cast<std::byte>(b));
  if (level > ISAL_DEF_MAX_LEVEL) {
    if (auto zlib = append_zlib_deflate(input, level, out); !zlib) return zlib;
  } else {
    bool written = false;
    // The Huffman-only block must save 1/32 of the chunk at least. One that saves less
    // holds random bytes, or repeats further apart than the probe's samples see: ISA-L
    // gets it.
    if (level == 1 && !lz77_pays(input)) {
      written = append_huffman_deflate(input, input.size() - input.size() / 32, out);
    }
    if (!written && level != 0) written = append_isal_deflate(input, level, out);
    if (!written) append_stored_blocks(input, out);
  }
  append_le(out, crc32_of(input), 4);
  append_le(out, static_cast<std::uint32_t>(input.size()), 4);
  return {};
}

void append_empty_member_with_extra(std::string_view id, std::span<const std::byte> payload,
                                    std::vector<std::byte>& out) {
  std::array<std::uint8_t, 10> header = kSmpackMemberHeader;
  header[3] = kFlagExtra;
  for (auto b : header) out.push_back(static_cast<std::byte>(b));
  append_le(out, static_cast<std::uint32_t>(payload.size() + 4), 2);  // XLEN
  out.push_back(static_cast<std::byte>(id[0]));
  out.push_back(static_cast<std::byte>(id[1]));
  append_le(out, static_cast<std::uint32_t>(payload.size()), 2);
  out.insert(out.end(), payload.begin(), payload.end());
  out.push_back(std::byte{0x03});  // a final fixed-Huffman block with no symbols
  out.push_back(std::byte{0x00});
  append_le(out, 0, 4);  // CRC-32 of nothing
  append_le(out, 0, 4);  // ISIZE
}

}  // namespace smpack
