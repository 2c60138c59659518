// libFuzzer target: the streamed weight collector (what lint and info use on archives
// without an smpack index) on any bytes, fed in pieces of fuzzer-chosen sizes with small
// head and tail windows, so the ring buffer and window edges are crossed often. Whatever
// it holds must agree with inspecting the same windows directly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "smpack/weight_inventory.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 3) return 0;
  // The first bytes choose the windows and the piece size; the rest is the member.
  smpack::WeightInventoryOptions options;
  options.head_window = 4096 + data[0] * 64u;
  options.tail_window = 1 + data[1] * 32u;
  options.scan.pickle.max_opcodes = 100'000;
  const std::size_t piece = 1 + data[2] % 97;
  std::span<const std::byte> member(reinterpret_cast<const std::byte*>(data + 3), size - 3);

  smpack::StreamedWeightCollector collector(options);
  collector.begin("fuzz.bin", member.size());
  for (std::size_t at = 0; at < member.size() && collector.wants_data(); at += piece) {
    collector.feed(member.subspan(at, std::min(piece, member.size() - at)));
  }
  if (!collector.end()) std::abort();  // memory-backed: only a bug can fail
  auto reports = collector.take_reports();
  if (reports.size() > 1) std::abort();
  if (reports.empty()) return 0;
  // The same windows, cut directly from the whole member.
  const std::size_t head = std::min<std::size_t>(member.size(), options.head_window);
  const std::size_t beyond = member.size() - head;
  const std::size_t tail = std::min<std::size_t>(beyond, options.tail_window);
  smpack::WindowByteSource windows(
      member.size(), {member.begin(), member.begin() + static_cast<std::ptrdiff_t>(head)},
      {member.end() - static_cast<std::ptrdiff_t>(tail), member.end()});
  auto direct = smpack::inspect_weight_file("fuzz.bin", windows, options.scan);
  if (!direct || direct->format != reports[0].format ||
      direct->tensor_bytes != reports[0].tensor_bytes ||
      direct->problems.size() != reports[0].problems.size()) {
    std::abort();
  }
  return 0;
}
