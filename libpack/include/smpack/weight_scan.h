// Weight files found by content, never by extension: what each is, whether loading
// it runs code, and which tensors it holds.
//
// Formats: safetensors; PyTorch zip checkpoints (torch.save >= 1.6) and TorchScript
// zips (torch.jit.save); legacy torch.save streams (magic number 0x1950a86a20f9469cfc6c)
// and the old tar layout; bare pickles (.pkl, .joblib, a .pt that is not a zip);
// numpy .npy (object arrays hold a pickle) and .npz. Readers: pickle_analyzer.h,
// zip_reader.h, safetensors.h, torch_checkpoint.h, numpy_file.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "smpack/byte_source.h"
#include "smpack/pickle_analyzer.h"
#include "smpack/result.h"
#include "smpack/weight_report.h"
#include "smpack/weight_scan_budget.h"
#include "smpack/zip_reader.h"

namespace smpack {

// How many leading bytes sniff_weight_format and looks_like_weight_file want to see
// (shorter heads work, with less certainty for protocol 0/1 pickles).
inline constexpr std::size_t kWeightSniffBytes = 4096;

struct WeightScanLimits {
  PickleLimits pickle;
  ZipLimits zip;
  // One pickle read into memory; a longer one is not judged (pickle_not_judged).
  std::uint64_t max_pickle_bytes = 256ull << 20;
  // A compressed zip record is inflated up to this many bytes whatever its ratio, and
  // beyond that only while it inflates at most max_inflation_ratio to 1: a deflate
  // bomb costs nothing, and is not judged when it is a pickle.
  std::uint64_t inflate_any_ratio_bytes = 16ull << 20;
  std::uint64_t max_inflation_ratio = 100;
  // Members of zips whose CRC is checked, in uncompressed bytes per file: records
  // that were read anyway (pickles) are always checked, tensor data up to this.
  std::uint64_t crc_check_bytes = 1ull << 30;
  // The artifact's budget, shared by all its files; none when null. Not owned.
  WeightScanBudget* budget = nullptr;
};

// The format from the first bytes of a file; `name` is never used to decide (a .pt
// that holds a bare pickle is a pickle) and only kept for call sites' symmetry with
// the other inspectors. Zips are told apart by their first member's name.
WeightFormat sniff_weight_format(std::span<const std::byte> head, std::string_view name);

// Whether `name` ends in an extension that is loaded with a loader that unpickles
// (.pt .pth .bin .ckpt .pkl .pickle .joblib .npy .npz, any case).
bool has_pickle_loader_name(std::string_view name);

// True when sniff_weight_format would say anything but unknown, or the file has a
// pickle-loader name (then it is judged whatever it holds): for a streaming reader
// deciding which members to keep windows of.
bool looks_like_weight_file(std::span<const std::byte> head, std::string_view name);

// Inspects one file. `member` names it in the report and in every message. The format
// comes from the content; a file with a pickle-loader name whose content is no known
// format is analysed as the pickle its loader would take it for, and reported as
// unrecognised_format when it is not one. A report with format unknown and no
// problems means the file is not a weight file.
// Error only when the source itself fails (Error::io); malformed, hostile or partly
// available content gives a report with problems and complete == false where bytes
// were missing. Thread-safe for distinct sources.
Result<WeightFileReport> inspect_weight_file(std::string_view member, const ByteSource& source,
                                             const WeightScanLimits& limits = {});

}  // namespace smpack
