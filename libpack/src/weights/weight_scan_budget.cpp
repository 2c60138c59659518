#include "smpack/weight_scan_budget.h"

#include "smpack/human_bytes.h"

namespace smpack {

WeightScanBudget::WeightScanBudget(std::uint64_t bytes, std::chrono::steady_clock::duration time)
    : left_(bytes),
      total_(bytes),
      time_(time),
      deadline_(std::chrono::steady_clock::now() + time) {}

bool WeightScanBudget::spend(std::uint64_t bytes) {
  if (expired()) return false;
  std::uint64_t left = left_.load(std::memory_order_relaxed);
  do {
    if (left < bytes) return false;
  } while (!left_.compare_exchange_weak(left, left - bytes, std::memory_order_relaxed));
  return true;
}

bool WeightScanBudget::expired() const {
  return std::chrono::steady_clock::now() >= deadline_;
}

std::string WeightScanBudget::exhausted_message() const {
  const auto seconds = std::chrono::duration_cast<std::chrono::seconds>(time_).count();
  return "the weight analysis budget of this artifact (" + human_bytes(total_) + " read, " +
         std::to_string(seconds) + " s) ran out";
}

}  // namespace smpack
