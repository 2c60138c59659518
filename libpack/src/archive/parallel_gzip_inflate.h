// A single-member gzip file held in full (a local file), inflated on several threads at
// once, the way rapidgzip does it: the compressed stream is cut into chunks, each chunk
// is decoded from the first dynamic block found in it (deflate_block_finder.h) to the
// block found in the next, and a chunk counts only once the decoding of the chunk
// before it ended exactly where it began. Chunk 0 begins at the member's deflate data,
// so every chunk handed on is decoded from a true boundary.
//
// A chunk decoded before its predecessor has no window: its back-references to the 32
// KiB before it are unknown. They are found with ISA-L alone, by decoding the start of
// the chunk three times with windows made of the low byte of each position, of its high
// byte, and of its high byte with bit 7 set. Where the last two disagree the byte came
// from the window, and the first two name the position; once 32 KiB pass without such a
// byte, the rest cannot reach the window and one decoder goes on alone. The reader
// fills those bytes in from the real window as it takes the chunk.
//
// A chunk the threads could not finish (one that expands past its cap, or whose window
// references go on and on, as in text) is decoded by the reader from the window. Whatever
// does not fit the picture at all (a chunk whose stop is no boundary, a second member,
// a bad CRC, corrupt data, no dynamic block near a chunk's start, as in stored data)
// is decoded by GzipDecoder from the last chunk start known to be true, so errors read
// the same as on the sequential path.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "archive/block_range_inflater.h"
#include "archive/decoded_block_stream.h"
#include "archive/gzip_decoder.h"
#include "smpack/byte_source.h"

namespace smpack {

class ParallelGzipInflate final : public DecodedBlockStream {
 public:
  struct Options {
    std::size_t chunk_bytes = 8 << 20;  // of compressed input per chunk
    unsigned threads = 2;               // decoding threads
  };
  // nullptr unless `source` holds all of a file of at least two chunks that starts with
  // a valid gzip header (the sequential decoder then says what is wrong), and reads at
  // random cheaply (a remote object is streamed once instead). `source`
  // must outlive the decoder; it is read from the decoding threads at once. `boundary`,
  // when set, is told of each chunk's start as the reader reaches it (a boundary every
  // chunk, not every block; after a fallback, every block as GzipDecoder reports them).
  static std::unique_ptr<ParallelGzipInflate> start(const ByteSource& source, std::string name,
                                                    GzipDecoder::MemberObserver observer,
                                                    DeflateBoundaryObserver boundary,
                                                    const Options& options);
  ~ParallelGzipInflate() override;
  ParallelGzipInflate(const ParallelGzipInflate&) = delete;
  ParallelGzipInflate& operator=(const ParallelGzipInflate&) = delete;

  Result<std::span<const std::byte>> next() override;
  std::uint64_t compressed_offset() const override;
  std::uint64_t members() const override;
  const GzipHeaderInfo& first_header() const override { return header_.info; }

  // How many chunks were decoded on the threads and how many again by the reader (or
  // by the sequential fallback, which counts as one); for tests and benchmarks.
  std::size_t chunks_decoded_ahead() const { return chunks_ahead_; }
  std::size_t chunks_redone() const { return chunks_redone_; }
  // How many chunk buffers were made new, not handed round.
  std::size_t buffers_made() const;
  bool fell_back() const { return fallback_ != nullptr; }

 private:
  // A back-reference into the unknown window: output byte `at` is window[window_index].
  struct Marker {
    std::uint32_t at;
    std::uint16_t window_index;
  };
  struct Chunk {
    // unbounded: no block start was found where the next chunk begins, so this one has
    // no stop and what follows is left to the sequential decoder.
    enum class Status { decoded, redo, unbounded };
    Status status = Status::redo;
    std::uint64_t start_bit = 0, stop_bit = 0;
    bool final = false;    // its stop is the member's end
    std::size_t next = 0;  // the chunk that starts at its stop
    std::vector<std::byte> bytes;
    std::size_t size = 0;
    std::vector<Marker> markers;
    std::size_t tail_from = 0;  // bytes from here on need no window
    std::uint32_t tail_crc = 0;
    std::uint64_t trailer_offset = 0;
  };
  struct Span {
    std::uint64_t start_bit = 0, stop_bit = 0;
    bool final = false;
    std::size_t next = 0;
  };
  // What the reader had when a chunk began: where the fallback resumes.
  struct Resume {
    std::uint64_t bit = 0;
    std::uint64_t decoded = 0;
    std::uint32_t crc = 0;
    std::vector<std::byte> window;
  };

  ParallelGzipInflate(const ByteSource& source, std::string name,
                      GzipDecoder::MemberObserver observer, DeflateBoundaryObserver boundary,
                      const Options& options, GzipMemberHeader header);

  std::optional<std::uint64_t> chunk_start(std::size_t k);
  // Status::unbounded when chunk k or the next has no block start.
  std::optional<Span> span_of(std::size_t k);
  Chunk decode_chunk(std::size_t k);
  void decode_from_window(Chunk& chunk);
  void decode_without_window(Chunk& chunk);
  std::span<std::byte> room(Chunk& chunk, std::size_t want) const;
  void work();

  Result<std::span<const std::byte>> take_chunk();
  Result<std::span<const std::byte>> read_redo();
  Result<std::span<const std::byte>> finish_member(std::uint64_t trailer_offset);
  Result<std::span<const std::byte>> read_fallback();
  Result<std::span<const std::byte>> fall_back();
  void begin_chunk(std::uint64_t start_bit);
  std::span<const std::byte> hand_over(std::span<const std::byte> bytes);
  void stop_workers();
  // Chunk buffers go round: a fresh one is zeroed and faulted in page by page, for every
  // chunk. `recycle` keeps one the reader is done with; `spare_buffer` hands one out, or
  // an empty one.
  void recycle(std::vector<std::byte> buffer);
  std::vector<std::byte> spare_buffer();

  const ByteSource& source_;
  std::string name_;
  GzipDecoder::MemberObserver observer_;
  DeflateBoundaryObserver boundary_;
  Options options_;
  GzipMemberHeader header_;
  std::uint64_t deflate_bit_ = 0;  // where member 0's deflate data begins
  std::size_t chunk_count_ = 0;

  mutable std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<std::optional<std::optional<std::uint64_t>>> starts_;  // found so far
  std::vector<std::unique_ptr<Chunk>> results_;
  std::size_t next_claim_ = 0;
  std::size_t next_chunk_ = 0;  // the reader's, written under the mutex
  bool stopping_ = false;
  std::vector<std::vector<std::byte>> spare_buffers_;
  std::size_t buffers_made_ = 0;
  std::vector<std::thread> threads_;

  // The reader's.
  std::unique_ptr<Chunk> handed_;
  std::optional<BlockRangeInflater> redo_;
  Span redo_span_;
  std::vector<std::byte> redo_buffer_;
  Resume resume_;
  std::uint64_t decoded_ = 0;
  std::uint32_t crc_ = 0;
  std::vector<std::byte> window_;
  std::uint64_t compressed_ = 0;
  std::optional<std::uint64_t> trailer_pending_;
  bool finished_ = false;
  std::unique_ptr<DecodedBlockStream> fallback_;
  std::uint64_t discard_ = 0;
  std::size_t chunks_ahead_ = 0, chunks_redone_ = 0;
};

}  // namespace smpack
