// libFuzzer target: the zip reader (and the PyTorch/npz inspection on top of it) must take
// any bytes without crashing or unbounded work, and every located member must lie inside
// the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "smpack/byte_source.h"
#include "smpack/weight_scan.h"
#include "smpack/zip_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  smpack::MemoryByteSource source(std::string_view(reinterpret_cast<const char*>(data), size));
  auto directory = smpack::read_zip_directory(source, "fuzz.zip");
  if (!directory) std::abort();  // a memory source never fails
  for (const smpack::ZipEntry& entry : directory->entries) {
    if (!entry.located) continue;
    if (entry.data_offset > size || entry.compressed_size > size - entry.data_offset) std::abort();
    auto member = smpack::read_zip_member(source, entry, "fuzz.zip", 1 << 20);
    if (!member || member->bytes.size() > (1u << 20)) std::abort();
  }
  smpack::WeightScanLimits limits;
  limits.pickle.max_opcodes = 100'000;
  limits.max_pickle_bytes = 1 << 20;
  if (!smpack::inspect_weight_file("fuzz.zip", source, limits)) std::abort();
  return 0;
}
