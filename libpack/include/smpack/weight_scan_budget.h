// The work that one artifact's weight analysis may do, shared by all its weight files:
// bytes inflated or read into memory to be analysed, and a deadline. A small hostile
// file (a deflate bomb, records that share one stream) must not buy unbounded time or
// memory; what the budget stops is reported, never passed: a pickle it stops is
// pickle_not_judged (an error), a CRC it skips is cap_exceeded (partly scanned).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace smpack {

class WeightScanBudget {
 public:
  WeightScanBudget(std::uint64_t bytes, std::chrono::steady_clock::duration time);

  // Takes `bytes` from what is left; false, taking nothing, when that is not enough
  // or the deadline has passed. Thread-safe.
  bool spend(std::uint64_t bytes);
  bool expired() const;
  std::chrono::steady_clock::time_point deadline() const { return deadline_; }
  // "the analysis budget of this artifact (16 GiB, 300 s) ran out", for messages.
  std::string exhausted_message() const;

 private:
  std::atomic<std::uint64_t> left_;
  std::uint64_t total_;
  std::chrono::steady_clock::duration time_;
  std::chrono::steady_clock::time_point deadline_;
};

}  // namespace smpack
