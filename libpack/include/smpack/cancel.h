// Cooperative cancellation: long library calls poll a CancelToken and return
// Error::interrupted() when it is set (the CLI sets it from its SIGINT handler).
#pragma once

#include <atomic>

namespace smpack {

class CancelToken {
 public:
  void cancel() { cancelled_.store(true, std::memory_order_relaxed); }
  bool cancelled() const { return cancelled_.load(std::memory_order_relaxed); }

 private:
  std::atomic<bool> cancelled_{false};
};

// Progress of a long call: done and total in the call's own unit (usually bytes).
// Called from the calling thread only.
struct ProgressSink {
  virtual ~ProgressSink() = default;
  virtual void update(unsigned long long done, unsigned long long total) = 0;
};

}  // namespace smpack
