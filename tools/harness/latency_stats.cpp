#include "latency_stats.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace smpack::harness {
namespace {

double percentile(const std::vector<double>& sorted, double fraction) {
  const double rank = fraction * static_cast<double>(sorted.size() - 1);
  const auto below = static_cast<std::size_t>(std::floor(rank));
  const auto above = std::min(below + 1, sorted.size() - 1);
  const double weight = rank - static_cast<double>(below);
  return sorted[below] + (sorted[above] - sorted[below]) * weight;
}

}  // namespace

LatencySummary summarize_latencies(std::vector<double> milliseconds, std::int64_t batch) {
  LatencySummary summary;
  if (milliseconds.empty()) return summary;
  std::sort(milliseconds.begin(), milliseconds.end());
  summary.runs = milliseconds.size();
  summary.mean_ms = std::accumulate(milliseconds.begin(), milliseconds.end(), 0.0) /
                    static_cast<double>(milliseconds.size());
  summary.min_ms = milliseconds.front();
  summary.max_ms = milliseconds.back();
  summary.p50_ms = percentile(milliseconds, 0.50);
  summary.p90_ms = percentile(milliseconds, 0.90);
  summary.p99_ms = percentile(milliseconds, 0.99);
  if (summary.mean_ms > 0) {
    summary.samples_per_second = static_cast<double>(batch) * 1000.0 / summary.mean_ms;
  }
  return summary;
}

}  // namespace smpack::harness
