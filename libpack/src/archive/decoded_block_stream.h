// A gzip file's decoded bytes, handed to the tar parser one block at a time by a
// decoder that runs on threads of its own (GzipDecodeAhead, ParallelGzipInflate).
#pragma once

#include <cstdint>
#include <span>

#include "smpack/archive_reader.h"
#include "smpack/result.h"

namespace smpack {

class DecodedBlockStream {
 public:
  virtual ~DecodedBlockStream() = default;
  // The next decoded block, valid until the next call; empty after the last member.
  virtual Result<std::span<const std::byte>> next() = 0;
  // As of the block last returned by next():
  virtual std::uint64_t compressed_offset() const = 0;
  virtual std::uint64_t members() const = 0;
  // After the first next().
  virtual const GzipHeaderInfo& first_header() const = 0;
};

}  // namespace smpack
