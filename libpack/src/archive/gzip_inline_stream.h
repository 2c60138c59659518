// A GzipDecoder read on the caller's thread, a block at a time: for block boundaries,
// which are reported with the decoder's state as it passes them and so must reach their
// observer in order with the bytes around them.
#pragma once

#include <cstddef>
#include <vector>

#include "archive/decoded_block_stream.h"
#include "archive/gzip_decoder.h"

namespace smpack {

class GzipInlineStream final : public DecodedBlockStream {
 public:
  GzipInlineStream(GzipDecoder decoder, std::size_t block_bytes)
      : decoder_(std::move(decoder)), block_(block_bytes) {}

  Result<std::span<const std::byte>> next() override {
    auto got = decoder_.read(block_);
    if (!got) return std::move(got).error();
    return std::span<const std::byte>(block_.data(), *got);
  }
  std::uint64_t compressed_offset() const override { return decoder_.compressed_offset(); }
  std::uint64_t members() const override { return decoder_.members(); }
  const GzipHeaderInfo& first_header() const override { return decoder_.first_header(); }

 private:
  GzipDecoder decoder_;
  std::vector<std::byte> block_;
};

}  // namespace smpack
