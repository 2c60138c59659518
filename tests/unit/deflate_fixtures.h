// Deflate streams for the tests of decoding from the middle: gzip files as gzip(1)
// writes them, and the block boundaries zlib reports in them.
#pragma once

#include <gtest/gtest.h>
#include <zlib.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace smpack::testing {

// A gzip file as gzip(1) writes it: zlib's deflate at `level`, one member.
inline std::vector<std::byte> gzip_of(const std::string& content, int level) {
  z_stream z{};
  EXPECT_EQ(deflateInit2(&z, level, Z_DEFLATED, 31, 8, Z_DEFAULT_STRATEGY), Z_OK);
  std::vector<std::byte> out(deflateBound(&z, content.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(content.data()));
  z.avail_in = static_cast<uInt>(content.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  EXPECT_EQ(deflate(&z, Z_FINISH), Z_STREAM_END);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

// The true block starts of a raw deflate stream, as zlib reports them.
inline std::vector<std::uint64_t> block_starts(const std::vector<std::byte>& raw) {
  std::vector<std::uint64_t> starts{0};
  z_stream z{};
  inflateInit2(&z, -15);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(raw.data()));
  z.avail_in = static_cast<uInt>(raw.size());
  std::vector<unsigned char> out(1 << 16);
  for (;;) {
    z.next_out = out.data();
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = inflate(&z, Z_BLOCK);
    if (rc == Z_STREAM_END || (rc != Z_OK && rc != Z_BUF_ERROR)) break;
    if ((z.data_type & 128) && !(z.data_type & 64)) {
      const std::uint64_t bit =
          static_cast<std::uint64_t>(z.next_in - reinterpret_cast<const Bytef*>(raw.data())) * 8 -
          static_cast<std::uint64_t>(z.data_type & 7);
      if (bit != starts.back()) starts.push_back(bit);
    }
  }
  inflateEnd(&z);
  return starts;
}

}  // namespace smpack::testing
