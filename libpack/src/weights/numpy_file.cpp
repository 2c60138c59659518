#include "weights/numpy_file.h"

#include <algorithm>
#include <cctype>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "util/le_bytes.h"
#include "weights/weight_report_builder.h"

namespace smpack {

bool is_npz(const ZipDirectory& directory) {
  return !directory.entries.empty() &&
         std::all_of(directory.entries.begin(), directory.entries.end(),
                     [](const ZipEntry& entry) { return entry.name.ends_with(".npy"); });
}

Result<void> inspect_npy(const ByteSource& source, std::string_view array_name,
                         const WeightScanLimits& limits, WeightFileReport& report) {
  // Inside an .npz the array is named after the member; a lone .npy is the member.
  std::string where = array_name == report.member ? "" : "array " + std::string(array_name) + ": ";
  auto malformed = [&](const std::string& message) -> Result<void> {
    add_problem(report, WeightProblemKind::numpy_malformed, where + message);
    return {};
  };
  auto preamble = read_held(source, 0, kNpyPreambleBytes, kNpyPreambleBytes);
  if (!preamble) return std::move(preamble).error();
  if (preamble->cut && preamble->bytes.size() < 10) {
    add_problem(report, WeightProblemKind::not_available,
                where + "the .npy preamble is not available");
    return {};
  }
  auto data_offset = npy_data_offset(preamble->bytes);
  if (!data_offset) return malformed(data_offset.error().message);
  if (*data_offset > source.size()) {
    return malformed("a header of " + std::to_string(*data_offset) + " bytes runs past the file");
  }
  auto held = read_held(source, 0, *data_offset, *data_offset);
  if (!held) return std::move(held).error();
  if (held->cut) {
    add_problem(report, WeightProblemKind::not_available,
                where + "the .npy header is not available");
    return {};
  }
  auto header = parse_npy_header(held->bytes);
  if (!header) return malformed(header.error().message);
  const std::uint64_t data_offset_value = header->data_offset;
  TensorInfo tensor{std::string(array_name), header->dtype_name, header->shape, header->item_bytes};
  for (const std::uint64_t dim : header->shape) {
    tensor.bytes = dim != 0 && tensor.bytes > std::numeric_limits<std::uint64_t>::max() / dim
                       ? std::numeric_limits<std::uint64_t>::max()
                       : tensor.bytes * dim;
  }
  if (header->object) {
    // np.load(allow_pickle=True) unpickles everything after the header.
    auto analysis = analyze_pickle_in(source, data_offset_value, source.size() - data_offset_value,
                                      where + "object array pickle", limits, report);
    return analysis ? Result<void>() : std::move(analysis).error();
  }
  std::uint64_t data_bytes = source.size() - data_offset_value;
  if (header->item_bytes != 0 && data_bytes != tensor.bytes) {
    return malformed(data_bytes < tensor.bytes
                         ? "the array needs " + std::to_string(tensor.bytes) +
                               " data bytes but the file has " + std::to_string(data_bytes)
                         : std::to_string(data_bytes - tensor.bytes) +
                               " trailing bytes after the array data");
  }
  report.tensors.push_back(std::move(tensor));
  report.tensor_bytes = total_tensor_bytes(report.tensors);
  return {};
}

Result<void> inspect_npz(const ByteSource& source, const ZipDirectory& directory,
                         const WeightScanLimits& limits, WeightFileReport& report) {
  std::vector<const ZipEntry*> read_already;
  for (const ZipEntry& entry : directory.entries) {
    if (!entry.located) continue;
    std::string array_name = entry.name.substr(0, entry.name.size() - 4);
    if (entry.method == 0) {
      SliceByteSource member(source, entry.data_offset, entry.compressed_size);
      if (auto inspected = inspect_npy(member, array_name, limits, report); !inspected) {
        return inspected;
      }
      continue;
    }
    auto data = read_zip_member(source, entry, report.member, limits.max_pickle_bytes);
    if (!data) return std::move(data).error();
    read_already.push_back(&entry);
    add_named_problems(report, std::move(data->problems));
    // What was not read (a cap) is "not available", not missing from the file.
    WindowByteSource member(entry.uncompressed_size, std::move(data->bytes), {});
    if (auto inspected = inspect_npy(member, array_name, limits, report); !inspected) {
      return inspected;
    }
  }
  return check_zip_crcs(source, directory, read_already, limits, report);
}

}  // namespace smpack
