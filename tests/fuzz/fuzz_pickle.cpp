// libFuzzer target: the pickle analyser must take any bytes without crashing, hanging or
// growing without bound; what it reports must stay inside the input and be consistent.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "smpack/pickle_analyzer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(data), size);
  smpack::PickleLimits limits;
  limits.max_opcodes = 100'000;
  limits.max_stack_depth = 10'000;
  limits.max_memo_entries = 10'000;
  limits.max_tensors = 1'000;
  smpack::PickleAnalysis analysis = smpack::analyze_pickle(bytes, limits);
  if (analysis.end_offset > size) std::abort();
  if (analysis.reached_stop && (analysis.end_offset == 0 || data[analysis.end_offset - 1] != '.')) {
    std::abort();
  }
  if (analysis.tensors.size() > limits.max_tensors) std::abort();
  bool dangerous_problem =
      std::any_of(analysis.problems.begin(), analysis.problems.end(), [](auto& p) {
        return p.kind == smpack::WeightProblemKind::pickle_dangerous_global ||
               p.kind == smpack::WeightProblemKind::pickle_dynamic_global;
      });
  if (dangerous_problem != (analysis.verdict == smpack::PickleVerdict::dangerous)) std::abort();
  return 0;
}
