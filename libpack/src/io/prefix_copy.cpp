#include "io/prefix_copy.h"

#include <algorithm>

namespace smpack {
namespace {

// Pieces small enough that a stop waits little and the copy keeps close behind the bound,
// large enough that a copy's call costs nothing beside its bytes.
constexpr std::uint64_t kPieceBytes = 32ull << 20;
// Before the end is known, the copy waits for this much to be allowed: a sequential scan
// moves the bound every 32 KiB block, and a call and a wakeup for each would cost more
// than the copy saves.
constexpr std::uint64_t kLeastPieceBytes = 4ull << 20;

}  // namespace

PrefixCopy::PrefixCopy(ArchiveOutput& output, const ByteSource& source, const CancelToken* cancel)
    : output_(output), source_(source), cancel_(cancel), thread_([this] { run(); }) {}

PrefixCopy::~PrefixCopy() {
  stop();
}

void PrefixCopy::stop() {
  {
    std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void PrefixCopy::at_least(std::uint64_t bytes) {
  {
    std::lock_guard lock(mutex_);
    if (final_ || bytes <= allowed_) return;
    allowed_ = bytes;
    if (allowed_ - copied_ < kLeastPieceBytes) return;
  }
  changed_.notify_all();
}

Result<void> PrefixCopy::finish(std::uint64_t bytes) {
  {
    std::unique_lock lock(mutex_);
    if (final_) return Error::internal(output_.name() + ": the kept prefix was ended twice");
    if (bytes < allowed_) {
      const std::uint64_t allowed = allowed_;
      final_ = stop_ = true;  // nothing more reaches the output
      lock.unlock();
      stop();
      return Error::internal(output_.name() + ": the kept prefix was allowed " +
                             std::to_string(allowed) + " bytes, then ended at " +
                             std::to_string(bytes));
    }
    allowed_ = bytes;
    final_ = true;
    changed_.notify_all();
    changed_.wait(lock, [&] { return done_; });
  }
  if (thread_.joinable()) thread_.join();
  if (error_) return *error_;
  return {};
}

void PrefixCopy::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [&] { return stop_ || final_ || allowed_ - copied_ >= kLeastPieceBytes; });
    if (stop_) break;
    if (copied_ == allowed_) {
      if (final_) break;
      continue;
    }
    const std::uint64_t from = copied_;
    const std::uint64_t length = std::min(allowed_ - copied_, kPieceBytes);
    lock.unlock();
    auto copied = output_.copy_from(source_, from, length, cancel_);
    lock.lock();
    if (!copied) {
      error_ = std::move(copied).error();
      break;
    }
    copied_ += length;
  }
  done_ = true;
  changed_.notify_all();
}

}  // namespace smpack
