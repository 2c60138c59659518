// A GzipDecoder on a thread of its own, a few blocks ahead of its reader. Reading a
// single-stream gzip (what GNU tar, the SDK and SageMaker's training jobs write) is
// otherwise one core inflating while tar parsing, CRC checks and hashing wait for it;
// here the reader parses and hashes one block while the next ones are inflated.
// Member observations travel with the blocks, so the observer runs on the reader's
// thread and sees a member only once the reader has reached its end; an error is
// handed over after the blocks decoded before it, as the decoder itself reports it.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <span>
#include <thread>
#include <vector>

#include "archive/decoded_block_stream.h"
#include "archive/gzip_decoder.h"

namespace smpack {

class GzipDecodeAhead final : public DecodedBlockStream {
 public:
  // The decoder's source is read on the decoding thread only. At most `blocks_ahead`
  // blocks of `block_bytes` wait for the reader.
  GzipDecodeAhead(GzipDecoder decoder, GzipDecoder::MemberObserver observer,
                  std::size_t block_bytes, std::size_t blocks_ahead);
  // Stops the decoding thread (after the read it is in) and joins it.
  ~GzipDecodeAhead() override;
  GzipDecodeAhead(const GzipDecodeAhead&) = delete;
  GzipDecodeAhead& operator=(const GzipDecodeAhead&) = delete;

  Result<std::span<const std::byte>> next() override;
  std::uint64_t compressed_offset() const override { return handed_.compressed_offset; }
  std::uint64_t members() const override { return handed_.members; }
  const GzipHeaderInfo& first_header() const override { return first_header_; }

 private:
  struct Block {
    std::vector<std::byte> bytes;
    std::size_t size = 0;
    std::optional<Error> error;
    std::uint64_t compressed_offset = 0;
    std::uint64_t members = 0;
    std::vector<GzipMemberInfo> members_ended;
  };

  void decode();

  GzipDecoder decoder_;
  GzipDecoder::MemberObserver observer_;
  GzipHeaderInfo first_header_;  // written by the decoding thread before the first hand-over
  std::vector<GzipMemberInfo> members_ended_;  // the decoding thread's, until handed over

  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::vector<std::byte>> free_;  // buffers the decoding thread may fill
  std::deque<Block> ready_;
  bool stopping_ = false;

  Block handed_;  // the reader's block
  bool finished_ = false;
  std::thread thread_;  // last: started once the members above exist
};

}  // namespace smpack
