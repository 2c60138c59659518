// libFuzzer target: the safetensors parser must take any bytes without crashing, and a
// file it accepts must be laid out exactly as its tensors say.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smpack/byte_source.h"
#include "weights/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smpack::MemoryByteSource source(std::string_view(reinterpret_cast<const char*>(data), size));
  auto info = smpack::inspect_safetensors(source, "fuzz.safetensors");
  if (!info) std::abort();  // a memory source never fails
  bool rejected = std::any_of(info->problems.begin(), info->problems.end(), [](auto& p) {
    return p.kind == smpack::WeightProblemKind::safetensors_invalid;
  });
  if (rejected) return 0;
  std::uint64_t covered = 0;
  for (const auto& tensor : info->tensors) covered += tensor.bytes;
  if (8 + info->header_length + covered != size) std::abort();
  return 0;
}
