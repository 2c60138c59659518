// The safetensors format (huggingface/safetensors): 8 bytes little-endian N, N bytes
// of UTF-8 JSON, then the tensor data.
//   { "__metadata__": {"k": "v", ...},                      (optional, strings only)
//     "<name>": {"dtype": "F32", "shape": [2, 3], "data_offsets": [begin, end]}, ... }
// Offsets are relative to the end of the header; sorted by offset the tensors must
// start at 0, follow each other without gaps, each cover product(shape) x dtype
// size, and the last must end exactly at the end of the file.
//
// Every check of the reference implementation is made and reported as
// safetensors_invalid (the reference rejects the file); duplicate tensor names,
// duplicate metadata keys, unknown fields and whitespace before the JSON are
// accepted by the reference and reported as safetensors_strict.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"

namespace smpack {

inline constexpr std::uint64_t kSafetensorsMaxHeaderBytes = 100'000'000;  // the reference's cap

struct SafetensorsInfo {
  std::uint64_t header_length = 0;  // N
  std::vector<TensorInfo> tensors;  // in data-offset order; dtype in torch spelling
  std::vector<std::pair<std::string, std::string>> metadata;
  std::vector<WeightProblem> problems;  // messages start with the display name
  bool complete = true;                 // false when the header was not available
};

// Reads and checks the header; only the first 8 + N bytes must be held, the data
// is never read. Error only when the source fails.
Result<SafetensorsInfo> inspect_safetensors(const ByteSource& source,
                                            std::string_view display_name);

}  // namespace smpack
