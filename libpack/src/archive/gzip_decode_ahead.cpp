#include "archive/gzip_decode_ahead.h"

#include <utility>

namespace smpack {

GzipDecodeAhead::GzipDecodeAhead(GzipDecoder decoder, GzipDecoder::MemberObserver observer,
                                 std::size_t block_bytes, std::size_t blocks_ahead)
    : decoder_(std::move(decoder)), observer_(std::move(observer)) {
  decoder_.set_member_observer(
      [this](const GzipMemberInfo& member) { members_ended_.push_back(member); });
  for (std::size_t i = 0; i < blocks_ahead; ++i) free_.emplace_back(block_bytes);
  thread_ = std::thread([this] { decode(); });
}

GzipDecodeAhead::~GzipDecodeAhead() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void GzipDecodeAhead::decode() {
  bool first = true;
  for (;;) {
    Block block;
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [this] { return stopping_ || !free_.empty(); });
      if (stopping_) return;
      block.bytes = std::move(free_.back());
      free_.pop_back();
    }
    auto got = decoder_.read(block.bytes);
    if (got) {
      block.size = *got;
    } else {
      block.error = std::move(got).error();
    }
    if (first) first_header_ = decoder_.first_header();
    first = false;
    block.compressed_offset = decoder_.compressed_offset();
    block.members = decoder_.members();
    block.members_ended = std::exchange(members_ended_, {});
    const bool last = block.error || block.size == 0;
    {
      std::lock_guard lock(mutex_);
      ready_.push_back(std::move(block));
    }
    changed_.notify_all();
    if (last) return;
  }
}

Result<std::span<const std::byte>> GzipDecodeAhead::next() {
  if (finished_) return std::span<const std::byte>();
  {
    std::unique_lock lock(mutex_);
    if (!handed_.bytes.empty()) free_.push_back(std::move(handed_.bytes));
    changed_.notify_all();
    changed_.wait(lock, [this] { return !ready_.empty(); });
    handed_ = std::move(ready_.front());
    ready_.pop_front();
  }
  for (const auto& member : handed_.members_ended) {
    if (observer_) observer_(member);
  }
  if (handed_.error) {
    finished_ = true;
    return *handed_.error;
  }
  if (handed_.size == 0) finished_ = true;
  return std::span<const std::byte>(handed_.bytes.data(), handed_.size);
}

}  // namespace smpack
