// The weight files of a model artifact, found by content (weight_scan.h) in every
// regular member: by random access for directories and smpack archives, and from the
// one streaming pass for any other archive, where a member is held only as a head
// and a tail window (reports then say what could not be read).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"
#include "smpack/weight_scan.h"

namespace smpack {

struct WeightInventoryOptions {
  WeightScanLimits scan;
  // What a streamed member keeps: its first head_window and last tail_window bytes.
  // PyTorch zips put their pickles first and the central directory last.
  std::uint64_t head_window = 64ull << 20;
  std::uint64_t tail_window = 16ull << 20;
  // The budget of one artifact's analysis (weight_scan_budget.h).
  std::uint64_t budget_bytes = 16ull << 30;
  std::chrono::seconds budget_time{300};
};

// One artifact's weight scan: the limits of `options`, bound to a budget that lives as
// long as this object (made once per visit).
class ArtifactWeightScan {
 public:
  explicit ArtifactWeightScan(const WeightInventoryOptions& options);
  ArtifactWeightScan(const ArtifactWeightScan&) = delete;
  ArtifactWeightScan& operator=(const ArtifactWeightScan&) = delete;

  const WeightScanLimits& limits() const { return options_.scan; }
  const WeightInventoryOptions& options() const { return options_; }

 private:
  WeightScanBudget budget_;
  WeightInventoryOptions options_;
};

// Appends the report of `member` to `reports` when its first bytes say it is a weight
// file; does nothing for any other file. Error only when the source fails.
Result<void> inventory_weight_file(std::string member, const ByteSource& source,
                                   const WeightScanLimits& limits,
                                   std::vector<WeightFileReport>& reports);

// Takes a streamed archive's regular members one after another, in pieces, and keeps
// the windows of those that look like weight files.
class StreamedWeightCollector {
 public:
  explicit StreamedWeightCollector(WeightInventoryOptions options);

  void begin(std::string member, std::uint64_t size);
  // False once the member's first bytes showed it is not a weight file: the reader
  // may skip the rest of it.
  bool wants_data() const;
  void feed(std::span<const std::byte> data);
  // Inspects the member just fed, if it looked like a weight file.
  Result<void> end();

  std::vector<WeightFileReport> take_reports() { return std::move(reports_); }
  // The bytes of the member being fed that are held for its inspection.
  std::size_t bytes_kept() const { return head_.size() + tail_ring_.size(); }

 private:
  WeightInventoryOptions options_;
  std::string member_;
  std::uint64_t size_ = 0;
  std::uint64_t fed_ = 0;
  std::optional<bool> is_weight_;  // unknown until kWeightSniffBytes (or all) are in
  // What of the member is kept, once it is known to be a weight file: the options'
  // windows, or less where its format says what its inspection reads.
  std::uint64_t head_cap_ = 0, tail_cap_ = 0;
  std::vector<std::byte> head_;
  std::vector<std::byte> tail_ring_;  // the last bytes after the head, circular
  std::vector<WeightFileReport> reports_;
};

}  // namespace smpack
