#include "archive/block_range_inflater.h"

#include <algorithm>
#include <string>

namespace smpack {
namespace {

constexpr std::size_t kInputBytes = 256 << 10;

}  // namespace

BlockRangeInflater::BlockRangeInflater(const ByteSource& source, std::uint64_t start_bit,
                                       std::uint64_t stop_bit, std::span<const std::byte> window)
    : source_(source),
      stop_bit_(stop_bit),
      next_byte_(start_bit / 8),
      input_end_(std::min<std::uint64_t>((stop_bit + 7) / 8, source.size())) {
  isal_inflate_init(&state_);
  state_.crc_flag = ISAL_DEFLATE;
  if (!window.empty()) {
    std::vector<std::uint8_t> dictionary(window.size());
    std::copy_n(reinterpret_cast<const std::uint8_t*>(window.data()), window.size(),
                dictionary.begin());
    isal_inflate_set_dict(&state_, dictionary.data(), static_cast<std::uint32_t>(window.size()));
  }
  // The block starts inside a byte: its bits above start_bit go to the bit buffer first.
  if (const int skip = static_cast<int>(start_bit % 8); skip != 0 && next_byte_ < input_end_) {
    std::byte first{};
    if (source_.read_at(next_byte_, std::span(&first, 1))) {
      state_.read_in = static_cast<std::uint64_t>(first) >> skip;
      state_.read_in_length = 8 - skip;
      ++next_byte_;
    } else {
      end_ = End::not_a_boundary;
    }
  }
}

Result<void> BlockRangeInflater::refill() {
  const auto want =
      static_cast<std::size_t>(std::min<std::uint64_t>(kInputBytes, input_end_ - next_byte_));
  input_.resize(want);
  if (auto r = source_.read_at(next_byte_, std::as_writable_bytes(std::span(input_))); !r) {
    return std::move(r).error();
  }
  next_byte_ += want;
  state_.next_in = input_.data();
  state_.avail_in = static_cast<std::uint32_t>(want);
  return {};
}

Result<std::size_t> BlockRangeInflater::read(std::span<std::byte> out) {
  if (end_ != End::running) return std::size_t{0};
  if (out.size() > 0x7fffffff) out = out.first(0x7fffffff);
  for (;;) {
    if (state_.avail_in == 0 && next_byte_ < input_end_) {
      if (auto r = refill(); !r) return std::move(r).error();
    }
    const bool last_input = next_byte_ == input_end_;
    const std::uint32_t input_before = state_.avail_in;
    state_.next_out = reinterpret_cast<std::uint8_t*>(out.data());
    state_.avail_out = static_cast<std::uint32_t>(out.size());
    const int rc = isal_inflate(&state_);
    if (rc < 0) {
      return Error::bad_input("invalid deflate data (ISA-L error " + std::to_string(rc) + ")");
    }
    const std::size_t produced = out.size() - state_.avail_out;
    if (state_.block_state == ISAL_BLOCK_FINISH) {
      // Whole bytes left in the bit buffer were read past the final block.
      trailer_offset_ =
          next_byte_ - state_.avail_in - static_cast<std::uint64_t>(state_.read_in_length / 8);
      end_ = End::final_block;
      return produced;
    }
    if (produced > 0) return produced;
    if (state_.avail_in > 0 && state_.avail_in == input_before) {
      return Error::internal("ISA-L's inflate stopped without progress");
    }
    if (state_.avail_in == 0 && last_input) {
      // Starved with all the input fed: at the stop only if waiting for a header there.
      const std::uint64_t at = next_byte_ * 8 - static_cast<std::uint64_t>(state_.read_in_length);
      const bool between_blocks =
          (state_.block_state == ISAL_BLOCK_NEW_HDR || state_.block_state == ISAL_BLOCK_HDR) &&
          state_.tmp_in_size == 0;
      end_ = between_blocks && at == stop_bit_ ? End::at_stop : End::not_a_boundary;
      return std::size_t{0};
    }
  }
}

}  // namespace smpack
