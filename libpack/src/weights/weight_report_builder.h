// Shared steps of the weight inspectors (torch_checkpoint.cpp, numpy_file.cpp,
// weight_scan.cpp): adding problems and pickle analyses to a report, reading what a
// source holds, and checking zip CRCs.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/pickle_analyzer.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"
#include "smpack/weight_scan.h"
#include "smpack/zip_reader.h"

namespace smpack {

// "member: message"; not_available, cap_exceeded and truncated mark it incomplete.
void add_problem(WeightFileReport& report, WeightProblemKind kind, std::string_view message);
// Problems whose messages already name the member (zip and safetensors readers).
void add_named_problems(WeightFileReport& report, std::vector<WeightProblem> problems);

// Folds one pickle's verdict, globals, tensors and problems into the report; the
// problems read "member: record: ..." (record may be empty).
void add_pickle_analysis(WeightFileReport& report, PickleAnalysis analysis,
                         std::string_view record);

struct HeldBytes {
  std::vector<std::byte> bytes;
  bool cut = false;  // fewer than asked: the source did not hold more, or a cap
};
// The bytes [offset, offset + length) that the source holds contiguously from
// `offset`, at most max_bytes of them.
Result<HeldBytes> read_held(const ByteSource& source, std::uint64_t offset, std::uint64_t length,
                            std::uint64_t max_bytes);

// Analyses the pickle at `offset` of the source (reading at most max_pickle_bytes) and
// adds it to the report. A pickle cut short because the source did not hold it is
// reported as not_available rather than truncated.
Result<PickleAnalysis> analyze_pickle_in(const ByteSource& source, std::uint64_t offset,
                                         std::uint64_t length, std::string_view record,
                                         const WeightScanLimits& limits, WeightFileReport& report);

// Reads a zip member (CRC checked) and analyses it as a pickle.
Result<PickleAnalysis> analyze_zip_pickle(const ByteSource& source, const ZipEntry& entry,
                                          const WeightScanLimits& limits, WeightFileReport& report);

// Checks the CRC of every located member whose data the source holds, up to
// limits.crc_check_bytes in all; members in `already_checked` are skipped.
Result<void> check_zip_crcs(const ByteSource& source, const ZipDirectory& directory,
                            const std::vector<const ZipEntry*>& already_checked,
                            const WeightScanLimits& limits, WeightFileReport& report);

// Sum of tensor bytes, saturating.
std::uint64_t total_tensor_bytes(const std::vector<TensorInfo>& tensors);

}  // namespace smpack
