// Latency percentiles and throughput from a list of timed runs.
#pragma once

#include <cstdint>
#include <vector>

namespace smpack::harness {

struct LatencySummary {
  std::uint64_t runs = 0;
  double mean_ms = 0;
  double min_ms = 0;
  double p50_ms = 0;
  double p90_ms = 0;
  double p99_ms = 0;
  double max_ms = 0;
  double samples_per_second = 0;  // batch / mean latency
};

// Percentiles by linear interpolation between closest ranks (numpy's default), so
// small run counts still give stable numbers. An empty list gives all zeros.
LatencySummary summarize_latencies(std::vector<double> milliseconds, std::int64_t batch);

}  // namespace smpack::harness
