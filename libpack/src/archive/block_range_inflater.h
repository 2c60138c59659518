// ISA-L's inflate over one stretch of a deflate stream in a file: from a block boundary
// at any bit offset, with the 32 KiB window that precedes it, up to the bit offset where
// another block should start, or to the end of the final block. ISA-L has no call that
// stops at a block's end, so the input is cut at the byte holding the stop: a decoder fed
// exactly that much ends there waiting for the next header, and one that ends anywhere
// else shows that no block boundary lies at the stop.
#pragma once

#include <isa-l/igzip_lib.h>

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/result.h"

namespace smpack {

class BlockRangeInflater {
 public:
  enum class End {
    running,
    at_stop,         // decoded up to the stop, which is a block boundary
    final_block,     // the final block ended before the stop; trailer_offset() says where
    not_a_boundary,  // the input up to the stop ran out elsewhere than at a boundary
  };

  // `source` must hold [start_bit / 8, ceil(stop_bit / 8)) and outlive the inflater;
  // `window` is copied.
  BlockRangeInflater(const ByteSource& source, std::uint64_t start_bit, std::uint64_t stop_bit,
                     std::span<const std::byte> window);
  BlockRangeInflater(const BlockRangeInflater&) = delete;
  BlockRangeInflater& operator=(const BlockRangeInflater&) = delete;

  // Decoded bytes, up to out.size(); 0 only once end() is not running. An error is
  // invalid deflate data or a failed read.
  Result<std::size_t> read(std::span<std::byte> out);

  End end() const { return end_; }
  // The first byte after the final block's last one (where a gzip trailer starts).
  std::uint64_t trailer_offset() const { return trailer_offset_; }
  // Input bytes taken so far, as a file offset.
  std::uint64_t input_offset() const { return next_byte_; }

 private:
  Result<void> refill();

  const ByteSource& source_;
  std::uint64_t stop_bit_;
  std::uint64_t next_byte_;  // the next file byte to read into input_
  std::uint64_t input_end_;  // one past the last byte to feed
  std::vector<std::uint8_t> input_;
  inflate_state state_{};
  End end_ = End::running;
  std::uint64_t trailer_offset_ = 0;
};

}  // namespace smpack
