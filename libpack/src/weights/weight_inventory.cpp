#include "smpack/weight_inventory.h"

#include <algorithm>

#include "util/le_bytes.h"
#include "weights/safetensors.h"

namespace smpack {
namespace {

// A file whose head only suggested a weight format, and that is none after all, has
// nothing to report.
bool is_weight_report(const WeightFileReport& report) {
  return report.format != WeightFormat::unknown || !report.problems.empty();
}

// The bytes of a weight file its inspection reads, where its first bytes say so: a
// safetensors file's length-prefixed header (inspect_safetensors), not the tensors. A
// 1 GiB shard would otherwise keep 64 MiB of head and 16 MiB of tail, copied as it
// streams past.
std::optional<std::uint64_t> inspected_prefix(std::span<const std::byte> head,
                                              std::string_view member, std::uint64_t size) {
  if (head.size() < 8 || sniff_weight_format(head, member) != WeightFormat::safetensors)
    return std::nullopt;
  const std::uint64_t header_bytes =
      std::min(load_le(head.first(8), 8), kSafetensorsMaxHeaderBytes);
  return std::min(size, 8 + header_bytes);
}

}  // namespace

ArtifactWeightScan::ArtifactWeightScan(const WeightInventoryOptions& options)
    : budget_(options.budget_bytes, options.budget_time), options_(options) {
  options_.scan.budget = &budget_;
  options_.scan.pickle.deadline = budget_.deadline();
}

Result<void> inventory_weight_file(std::string member, const ByteSource& source,
                                   const WeightScanLimits& limits,
                                   std::vector<WeightFileReport>& reports) {
  std::vector<std::byte> head(
      static_cast<std::size_t>(std::min<std::uint64_t>(kWeightSniffBytes, source.held_from(0))));
  if (head.empty()) return {};
  if (auto read = source.read_at(0, head); !read) return read;
  if (!looks_like_weight_file(head, member)) return {};
  auto report = inspect_weight_file(member, source, limits);
  if (!report) return std::move(report).error();
  if (is_weight_report(*report)) reports.push_back(std::move(*report));
  return {};
}

StreamedWeightCollector::StreamedWeightCollector(WeightInventoryOptions options)
    : options_(std::move(options)) {}

void StreamedWeightCollector::begin(std::string member, std::uint64_t size) {
  member_ = std::move(member);
  size_ = size;
  fed_ = 0;
  is_weight_.reset();
  head_.clear();
  tail_ring_.clear();
}

bool StreamedWeightCollector::wants_data() const {
  return is_weight_ != false;
}

void StreamedWeightCollector::feed(std::span<const std::byte> data) {
  if (!wants_data()) return;
  const std::uint64_t head_cap = is_weight_ ? head_cap_ : kWeightSniffBytes;
  const auto into_head = static_cast<std::size_t>(
      std::min<std::uint64_t>(data.size(), head_cap - std::min(head_cap, head_.size())));
  head_.insert(head_.end(), data.begin(), data.begin() + static_cast<std::ptrdiff_t>(into_head));
  fed_ += into_head;
  data = data.subspan(into_head);
  if (!is_weight_ && (head_.size() >= kWeightSniffBytes || fed_ == size_)) {
    is_weight_ = looks_like_weight_file(head_, member_);
    if (!*is_weight_) return;
    const auto prefix = inspected_prefix(head_, member_, size_);
    head_cap_ = std::max<std::uint64_t>(
        head_.size(), std::min(prefix.value_or(options_.head_window), options_.head_window));
    tail_cap_ = prefix ? 0 : options_.tail_window;
    if (!data.empty()) return feed(data);  // the head grows up to its window now
  }
  if (data.empty() || !is_weight_) return;
  // Past the head: keep the last tail_window bytes in a ring.
  const std::uint64_t beyond_head = size_ - std::min(size_, head_cap_);
  const auto ring_bytes = static_cast<std::size_t>(std::min(tail_cap_, beyond_head));
  if (ring_bytes == 0) return;
  if (tail_ring_.size() != ring_bytes) tail_ring_.assign(ring_bytes, std::byte{0});
  // Bytes that a later piece pushes out of the ring anyway are only counted.
  const std::size_t passed = data.size() - std::min(data.size(), ring_bytes);
  fed_ += passed;
  data = data.subspan(passed);
  while (!data.empty()) {
    const auto at = static_cast<std::size_t>((fed_ - head_.size()) % ring_bytes);
    const std::size_t n = std::min(data.size(), ring_bytes - at);
    std::copy_n(data.begin(), n, tail_ring_.begin() + static_cast<std::ptrdiff_t>(at));
    data = data.subspan(n);
    fed_ += n;
  }
}

Result<void> StreamedWeightCollector::end() {
  if (is_weight_ == false || head_.empty()) return {};
  if (!is_weight_ && !looks_like_weight_file(head_, member_)) return {};
  // Unroll the ring: the oldest byte sits where the next one would have gone.
  std::vector<std::byte> tail;
  if (!tail_ring_.empty()) {
    const auto start = static_cast<std::ptrdiff_t>((fed_ - head_.size()) % tail_ring_.size());
    tail.assign(tail_ring_.begin() + start, tail_ring_.end());
    tail.insert(tail.end(), tail_ring_.begin(), tail_ring_.begin() + start);
  }
  WindowByteSource source(size_, std::move(head_), std::move(tail));
  auto report = inspect_weight_file(member_, source, options_.scan);
  if (!report) return std::move(report).error();
  if (is_weight_report(*report)) reports_.push_back(std::move(*report));
  return {};
}

}  // namespace smpack
