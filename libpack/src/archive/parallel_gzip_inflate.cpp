#include "archive/parallel_gzip_inflate.h"

#include <isa-l/crc.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <utility>
#include <variant>

#include "archive/deflate_block_finder.h"
#include "archive/gzip_decode_ahead.h"
#include "archive/gzip_inline_stream.h"
#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr std::size_t kWindowBytes = 32768;
constexpr std::size_t kTraceStepBytes = 64 << 10;
// A chunk whose window references go on past this many bytes (text, not weights) is
// left for the reader, which has the window by then.
constexpr std::size_t kMaxTracedBytes = 1 << 20;
// Output per chunk, at most this many times its input; beyond it the reader streams it.
constexpr std::size_t kMaxExpansion = 8;
// A chunk's block start is looked for in its first bytes only: zlib, pigz and ISA-L
// start a block every few dozen KiB, and a stream with none there (stored data) is
// not worth searching bit by bit.
constexpr std::size_t kSearchBytes = 256 << 10;
constexpr std::size_t kMinChunkBytes = 4 << 10;
constexpr std::size_t kMaxDynamicHeaderBytes = 1024;
constexpr std::size_t kReaderBlockBytes = 1 << 20;
constexpr std::size_t kFallbackBlocksAhead = 4;
constexpr std::size_t kTrailerBytes = 8;

// The three windows of the back-reference trace (see the header).
const std::array<std::vector<std::byte>, 3>& trace_windows() {
  static const auto windows = [] {
    std::array<std::vector<std::byte>, 3> w;
    for (auto& v : w) v.resize(kWindowBytes);
    for (std::size_t i = 0; i < kWindowBytes; ++i) {
      w[0][i] = static_cast<std::byte>(i & 0xff);
      w[1][i] = static_cast<std::byte>((i >> 8) & 0x7f);
      w[2][i] = static_cast<std::byte>(((i >> 8) & 0x7f) | 0x80);
    }
    return w;
  }();
  return windows;
}

std::uint32_t crc_of(std::uint32_t crc, std::span<const std::byte> bytes) {
  return crc32_gzip_refl(crc, reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size());
}

}  // namespace

std::unique_ptr<ParallelGzipInflate> ParallelGzipInflate::start(
    const ByteSource& source, std::string name, GzipDecoder::MemberObserver observer,
    DeflateBoundaryObserver boundary, const Options& options) {
  const std::uint64_t size = source.size();
  if (options.threads < 1 || options.chunk_bytes < kMinChunkBytes ||
      size < 2 * options.chunk_bytes || !source.holds(0, size) ||
      !source.reads_at_random_cheaply()) {
    return nullptr;
  }
  std::vector<std::byte> head(std::min<std::uint64_t>(size, kMaxGzipHeaderBytes));
  if (!source.read_at(0, head)) return nullptr;
  auto parsed = parse_gzip_member_header(head);
  auto* header = std::get_if<GzipMemberHeader>(&parsed);
  if (header == nullptr || header->length + kTrailerBytes >= size) return nullptr;
  std::unique_ptr<ParallelGzipInflate> inflate(
      new ParallelGzipInflate(source, std::move(name), std::move(observer), std::move(boundary),
                              options, std::move(*header)));
  for (unsigned i = 0; i < options.threads; ++i) {
    inflate->threads_.emplace_back([raw = inflate.get()] { raw->work(); });
  }
  return inflate;
}

ParallelGzipInflate::ParallelGzipInflate(const ByteSource& source, std::string name,
                                         GzipDecoder::MemberObserver observer,
                                         DeflateBoundaryObserver boundary, const Options& options,
                                         GzipMemberHeader header)
    : source_(source),
      name_(std::move(name)),
      observer_(std::move(observer)),
      boundary_(std::move(boundary)),
      options_(options),
      header_(std::move(header)) {
  deflate_bit_ = std::uint64_t{header_.length} * 8;
  const std::uint64_t deflate_bytes = source_.size() - kTrailerBytes - header_.length;
  chunk_count_ =
      static_cast<std::size_t>((deflate_bytes + options_.chunk_bytes - 1) / options_.chunk_bytes);
  starts_.resize(chunk_count_);
  results_.resize(chunk_count_);
  resume_.bit = deflate_bit_;
  compressed_ = header_.length;
}

ParallelGzipInflate::~ParallelGzipInflate() {
  stop_workers();
}

void ParallelGzipInflate::stop_workers() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  for (auto& thread : threads_) thread.join();
  threads_.clear();
}

// Chunk k's first candidate block in its first kSearchBytes. Any thread may compute it;
// every thread gets the same answer.
std::optional<std::uint64_t> ParallelGzipInflate::chunk_start(std::size_t k) {
  if (k == 0) return deflate_bit_;
  {
    std::lock_guard lock(mutex_);
    if (starts_[k]) return *starts_[k];
  }
  const std::uint64_t from = header_.length + std::uint64_t{k} * options_.chunk_bytes;
  const std::uint64_t until = std::min<std::uint64_t>(
      from + std::min(kSearchBytes, options_.chunk_bytes), source_.size() - kTrailerBytes);
  std::vector<std::byte> bytes(static_cast<std::size_t>(
      std::min<std::uint64_t>(until - from + kMaxDynamicHeaderBytes, source_.size() - from)));
  std::optional<std::uint64_t> found;
  if (source_.read_at(from, bytes)) {
    if (auto bit = find_dynamic_block(bytes, 0, (until - from) * 8)) found = from * 8 + *bit;
  }
  std::lock_guard lock(mutex_);
  starts_[k] = found;
  return found;
}

std::optional<ParallelGzipInflate::Span> ParallelGzipInflate::span_of(std::size_t k) {
  const auto start = chunk_start(k);
  if (!start) return std::nullopt;
  // A chunk with no block start near its own start (a long block) is joined to the one
  // before it; two in a row end the parallel decoding.
  for (std::size_t next = k + 1; next <= k + 2; ++next) {
    if (next == chunk_count_) return Span{*start, source_.size() * 8, true, next};
    if (auto stop = chunk_start(next)) return Span{*start, *stop, false, next};
  }
  return std::nullopt;
}

// Room for the next bytes of the chunk, at most `want`, the buffer grown up to the
// chunk's cap; empty at the cap.
std::span<std::byte> ParallelGzipInflate::room(Chunk& chunk, std::size_t want) const {
  const std::size_t cap = kMaxExpansion * options_.chunk_bytes;
  if (chunk.size == chunk.bytes.size() && chunk.bytes.size() < cap) {
    chunk.bytes.resize(std::min(cap, 2 * chunk.bytes.size()));
  }
  return std::span(chunk.bytes)
      .subspan(chunk.size, std::min(want, chunk.bytes.size() - chunk.size));
}

ParallelGzipInflate::Chunk ParallelGzipInflate::decode_chunk(std::size_t k) {
  Chunk chunk;
  const auto span = span_of(k);
  if (!span) {
    chunk.status = Chunk::Status::unbounded;
    return chunk;
  }
  chunk.start_bit = span->start_bit;
  chunk.stop_bit = span->stop_bit;
  chunk.final = span->final;
  chunk.next = span->next;
  chunk.bytes = spare_buffer();
  chunk.bytes.resize(options_.chunk_bytes + options_.chunk_bytes / 4);
  if (k == 0) {
    decode_from_window(chunk);
  } else {
    decode_without_window(chunk);
  }
  if (chunk.status == Chunk::Status::decoded) {
    chunk.tail_crc =
        crc_of(0, std::span(chunk.bytes).subspan(chunk.tail_from, chunk.size - chunk.tail_from));
  } else {
    recycle(std::exchange(chunk.bytes, {}));
    chunk.markers = {};
  }
  return chunk;
}

std::size_t ParallelGzipInflate::buffers_made() const {
  std::lock_guard lock(mutex_);
  return buffers_made_;
}

void ParallelGzipInflate::recycle(std::vector<std::byte> buffer) {
  std::lock_guard lock(mutex_);
  // At most threads + 1 chunks are claimed ahead of the reader's, which holds one more.
  if (spare_buffers_.size() < options_.threads + 2) spare_buffers_.push_back(std::move(buffer));
}

std::vector<std::byte> ParallelGzipInflate::spare_buffer() {
  std::lock_guard lock(mutex_);
  if (spare_buffers_.empty()) {
    ++buffers_made_;
    return {};
  }
  auto buffer = std::move(spare_buffers_.back());
  spare_buffers_.pop_back();
  return buffer;
}

namespace {

// Whether an inflater that has stopped ended where its chunk should.
bool ended_as_planned(const BlockRangeInflater& inflater, bool final) {
  return inflater.end() ==
         (final ? BlockRangeInflater::End::final_block : BlockRangeInflater::End::at_stop);
}

}  // namespace

void ParallelGzipInflate::decode_from_window(Chunk& chunk) {
  BlockRangeInflater inflater(source_, chunk.start_bit, chunk.stop_bit, {});
  for (;;) {
    const auto out = room(chunk, chunk.bytes.size());
    if (out.empty()) return;
    auto got = inflater.read(out);
    if (!got) return;
    if (*got == 0) break;
    chunk.size += *got;
  }
  if (!ended_as_planned(inflater, chunk.final)) return;
  chunk.trailer_offset = inflater.trailer_offset();
  chunk.status = Chunk::Status::decoded;
}

void ParallelGzipInflate::decode_without_window(Chunk& chunk) {
  const auto& windows = trace_windows();
  BlockRangeInflater low(source_, chunk.start_bit, chunk.stop_bit, windows[0]);
  std::optional<BlockRangeInflater> high, flagged;
  high.emplace(source_, chunk.start_bit, chunk.stop_bit, windows[1]);
  flagged.emplace(source_, chunk.start_bit, chunk.stop_bit, windows[2]);
  std::vector<std::byte> high_bytes(kTraceStepBytes), flagged_bytes(kTraceStepBytes);
  for (;;) {
    const bool tracing = high.has_value();
    const auto out = room(chunk, tracing ? kTraceStepBytes : chunk.bytes.size());
    if (out.empty()) return;
    auto got = low.read(out);
    if (!got) return;
    if (tracing) {
      auto got_high = high->read(std::span(high_bytes).first(out.size()));
      auto got_flagged = flagged->read(std::span(flagged_bytes).first(out.size()));
      if (!got_high || !got_flagged || *got_high != *got || *got_flagged != *got) return;
      for (std::size_t i = 0; i < *got; ++i) {
        if (high_bytes[i] == flagged_bytes[i]) continue;
        chunk.markers.push_back(
            {static_cast<std::uint32_t>(chunk.size + i),
             static_cast<std::uint16_t>(static_cast<unsigned>(out[i]) |
                                        (static_cast<unsigned>(high_bytes[i]) & 0x7f) << 8)});
        chunk.tail_from = chunk.size + i + 1;
      }
    }
    chunk.size += *got;
    if (*got == 0) break;
    if (tracing && chunk.size - chunk.tail_from >= kWindowBytes) {
      high.reset();
      flagged.reset();
    } else if (tracing && chunk.size > kMaxTracedBytes) {
      return;
    }
  }
  if (!ended_as_planned(low, chunk.final)) return;
  chunk.trailer_offset = low.trailer_offset();
  chunk.status = Chunk::Status::decoded;
}

void ParallelGzipInflate::work() {
  for (;;) {
    std::size_t k = 0;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] {
        return stopping_ ||
               (next_claim_ < chunk_count_ && next_claim_ <= next_chunk_ + options_.threads);
      });
      if (stopping_) return;
      k = next_claim_++;
    }
    auto chunk = std::make_unique<Chunk>(decode_chunk(k));
    {
      std::lock_guard lock(mutex_);
      results_[k] = std::move(chunk);
    }
    changed_.notify_all();
  }
}

void ParallelGzipInflate::begin_chunk(std::uint64_t start_bit) {
  resume_ = {start_bit, decoded_, crc_, window_};
  if (boundary_) {
    boundary_({0, 0, 0, start_bit, decoded_, crc_, {}}, [this] { return window_; });
  }
}

std::span<const std::byte> ParallelGzipInflate::hand_over(std::span<const std::byte> bytes) {
  decoded_ += bytes.size();
  if (bytes.size() >= kWindowBytes) {
    window_.assign(bytes.end() - kWindowBytes, bytes.end());
  } else {
    window_.insert(window_.end(), bytes.begin(), bytes.end());
    if (window_.size() > kWindowBytes) {
      window_.erase(window_.begin(),
                    window_.begin() + static_cast<std::ptrdiff_t>(window_.size() - kWindowBytes));
    }
  }
  return bytes;
}

Result<std::span<const std::byte>> ParallelGzipInflate::next() {
  if (fallback_) return read_fallback();
  if (finished_) return std::span<const std::byte>();
  if (trailer_pending_) return finish_member(*trailer_pending_);
  if (redo_) return read_redo();
  return take_chunk();
}

Result<std::span<const std::byte>> ParallelGzipInflate::take_chunk() {
  std::unique_ptr<Chunk> chunk;
  {
    std::unique_lock lock(mutex_);
    changed_.wait(lock, [this] { return results_[next_chunk_] != nullptr; });
    chunk = std::move(results_[next_chunk_]);
  }
  // The bytes the last call handed over are done with: their buffer goes back before the
  // threads may claim more, so that no more than threads + 2 buffers are ever in use.
  if (handed_) recycle(std::exchange(handed_->bytes, {}));
  // The chunk before ended at this one's start (or this is chunk 0): it is a true one.
  begin_chunk(chunk_start(next_chunk_).value_or(resume_.bit));
  if (chunk->status == Chunk::Status::unbounded) return fall_back();
  const std::size_t missing = kWindowBytes - window_.size();
  const bool resolvable =
      std::all_of(chunk->markers.begin(), chunk->markers.end(),
                  [missing](const Marker& m) { return m.window_index >= missing; });
  if (chunk->status == Chunk::Status::redo || !resolvable) {
    ++chunks_redone_;
    redo_span_ = {chunk->start_bit, chunk->stop_bit, chunk->final, chunk->next};
    redo_.emplace(source_, chunk->start_bit, chunk->stop_bit, window_);
    return read_redo();
  }
  ++chunks_ahead_;
  for (const auto& m : chunk->markers) chunk->bytes[m.at] = window_[m.window_index - missing];
  const auto bytes = std::span<const std::byte>(chunk->bytes).first(chunk->size);
  crc_ = crc_of(crc_, bytes.first(chunk->tail_from));
  crc_ = static_cast<std::uint32_t>(
      crc32_combine(crc_, chunk->tail_crc, static_cast<z_off_t>(chunk->size - chunk->tail_from)));
  if (chunk->final) {
    trailer_pending_ = chunk->trailer_offset;
    compressed_ = chunk->trailer_offset;
  } else {
    compressed_ = chunk->stop_bit / 8;
    {
      std::lock_guard lock(mutex_);
      next_chunk_ = chunk->next;
    }
    changed_.notify_all();
  }
  handed_ = std::move(chunk);
  if (bytes.empty()) return next();
  return hand_over(bytes);
}

// A chunk the threads could not decode, decoded here from the window, a block at a time.
Result<std::span<const std::byte>> ParallelGzipInflate::read_redo() {
  if (redo_buffer_.empty()) redo_buffer_.resize(kReaderBlockBytes);
  auto got = redo_->read(redo_buffer_);
  if (!got) return fall_back();
  compressed_ = redo_->input_offset();
  if (*got > 0) {
    const auto bytes = std::span<const std::byte>(redo_buffer_).first(*got);
    crc_ = crc_of(crc_, bytes);
    return hand_over(bytes);
  }
  if (!ended_as_planned(*redo_, redo_span_.final)) return fall_back();
  const std::uint64_t trailer = redo_->trailer_offset();
  redo_.reset();
  if (redo_span_.final) return finish_member(trailer);
  {
    std::lock_guard lock(mutex_);
    next_chunk_ = redo_span_.next;
  }
  changed_.notify_all();
  return take_chunk();
}

Result<std::span<const std::byte>> ParallelGzipInflate::finish_member(
    std::uint64_t trailer_offset) {
  trailer_pending_.reset();
  std::array<std::byte, kTrailerBytes> trailer{};
  if (trailer_offset + kTrailerBytes != source_.size() ||
      !source_.read_at(trailer_offset, trailer) || load_le(trailer, 4) != crc_ ||
      load_le(std::span(trailer).subspan(4), 4) != (decoded_ & 0xffffffffu)) {
    return fall_back();  // another member follows, or the trailer disagrees: let it say which
  }
  stop_workers();
  finished_ = true;
  compressed_ = source_.size();
  if (observer_) observer_({0, source_.size(), decoded_, header_.fixed});
  return std::span<const std::byte>();
}

// Sequential decoding from the start of the chunk being read, skipping what of it was
// handed on already.
Result<std::span<const std::byte>> ParallelGzipInflate::fall_back() {
  stop_workers();
  redo_.reset();
  ++chunks_redone_;
  discard_ = decoded_ - resume_.decoded;
  // From the member's start, the file is decoded afresh (with ISA-L); from a later chunk,
  // zlib resumes with the window there.
  const bool from_start = resume_.decoded == 0;
  std::uint64_t offset = from_start ? 0 : resume_.bit / 8;
  GzipDecoder::Source read = [this,
                              offset](std::span<std::byte> out) mutable -> Result<std::size_t> {
    const auto n =
        static_cast<std::size_t>(std::min<std::uint64_t>(out.size(), source_.size() - offset));
    if (auto r = source_.read_at(offset, out.first(n)); !r) return std::move(r).error();
    offset += n;
    return n;
  };
  auto decoder = from_start ? GzipDecoder(std::move(read), name_)
                            : GzipDecoder(std::move(read), name_,
                                          DeflateBoundary{0, 0, 0, resume_.bit, resume_.decoded,
                                                          resume_.crc, resume_.window});
  auto observer = [this](GzipMemberInfo member) {
    if (member.file_offset == 0) member.fixed_header = header_.fixed;
    if (observer_) observer_(member);
  };
  if (boundary_) {
    // Boundaries are reported as the decoder passes them: on this thread.
    decoder.set_member_observer(std::move(observer));
    decoder.set_boundary_observer(boundary_);
    fallback_ = std::make_unique<GzipInlineStream>(std::move(decoder), kReaderBlockBytes);
  } else {
    fallback_ = std::make_unique<GzipDecodeAhead>(std::move(decoder), std::move(observer),
                                                  kReaderBlockBytes, kFallbackBlocksAhead);
  }
  return read_fallback();
}

Result<std::span<const std::byte>> ParallelGzipInflate::read_fallback() {
  for (;;) {
    auto got = fallback_->next();
    if (!got || got->empty() || discard_ == 0) return got;
    const auto skip = static_cast<std::size_t>(std::min<std::uint64_t>(discard_, got->size()));
    discard_ -= skip;
    if (skip < got->size()) return got->subspan(skip);
  }
}

std::uint64_t ParallelGzipInflate::compressed_offset() const {
  return fallback_ ? fallback_->compressed_offset() : compressed_;
}

std::uint64_t ParallelGzipInflate::members() const {
  return fallback_ ? fallback_->members() : 1;
}

}  // namespace smpack
