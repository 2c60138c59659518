#include "smpack/weight_scan.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <string>

#include "util/le_bytes.h"
#include "weights/keras_file.h"
#include "weights/numpy_file.h"
#include "weights/safetensors.h"
#include "weights/torch_checkpoint.h"
#include "weights/weight_report_builder.h"

namespace smpack {
namespace {

constexpr std::string_view kZipLocalMagic = "PK\x03\x04";
constexpr std::string_view kZipEmptyMagic = "PK\x05\x06";
// More pickles than this back to back in one file are not a format anyone writes.
constexpr int kMaxChainedPickles = 16;
// The extensions under which weights are loaded with a loader that unpickles.
constexpr std::array<std::string_view, 9> kPickleLoaderExtensions = {
    "pt", "pth", "bin", "ckpt", "pkl", "pickle", "joblib", "npy", "npz"};

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// The name of a zip's first member, from its local header.
std::string_view first_zip_name(std::string_view head) {
  if (head.size() < 30) return {};
  const auto name_length = static_cast<std::size_t>(load_le(head.substr(26), 2));
  return head.substr(30, name_length);
}

WeightFormat sniff_zip(std::string_view head) {
  std::string_view first = first_zip_name(head);
  if (first.ends_with(".npy")) return WeightFormat::numpy_npz;
  std::size_t slash = first.find('/');
  if (slash != std::string_view::npos) {
    std::string_view rest = first.substr(slash + 1);
    if (rest == "data.pkl" || rest == "constants.pkl" || rest == "version" || rest == "byteorder" ||
        rest.starts_with("data/") || rest.starts_with("code/") || rest.starts_with(".data/")) {
      return WeightFormat::pytorch_zip;
    }
  }
  return WeightFormat::other_zip;
}

bool looks_like_safetensors(std::span<const std::byte> head) {
  if (head.size() < 9) return false;
  const std::uint64_t n = load_le(head, 8);
  // An oversized N is still recognisably safetensors (and then rejected for it).
  if (n < 2) return false;
  std::string_view json = as_text(head.subspan(8));
  std::size_t first = json.find_first_not_of(" \t\r\n");
  return first != std::string_view::npos && json[first] == '{';
}

// Whether `head` starts a pickle as pickle.load would run it: any opcode may come first
// (nothing asks for PROTO), and the head parses to its STOP, or without a fault up to
// its end when the file goes on (a long argument), or imports a denied callable before
// it breaks (a deliberately broken pickle has run everything before the break).
// The analysis of a file's first bytes only, under a small opcode cap.
PickleAnalysis analyze_head(std::span<const std::byte> head) {
  PickleLimits limits;
  limits.max_opcodes = 10'000;
  return analyze_pickle(head, limits);
}

bool looks_like_pickle(std::span<const std::byte> head, bool more_follows) {
  if (head.empty()) return false;
  PickleAnalysis analysis = analyze_head(head);
  if (analysis.verdict == PickleVerdict::dangerous) return true;
  const bool malformed = std::any_of(
      analysis.problems.begin(), analysis.problems.end(),
      [](const WeightProblem& p) { return p.kind == WeightProblemKind::pickle_malformed; });
  return !malformed && (analysis.reached_stop || more_follows);
}

// Whether pickle.load could get past the head: it parses without a fault or imports
// something first (weaker than looks_like_pickle, for a file that must be judged).
bool starts_like_pickle(const PickleAnalysis& head) {
  return !head.globals.empty() ||
         std::none_of(head.problems.begin(), head.problems.end(), [](const WeightProblem& p) {
           return p.kind == WeightProblemKind::pickle_malformed;
         });
}

bool head_is_pickle(std::span<const std::byte> head) {
  return looks_like_pickle(head, head.size() >= kWeightSniffBytes);
}

// What the whole file's first pickle says about whether it is one at all, once the
// head only suggested it: it reaches STOP, imports something before it breaks, or a
// cap or missing bytes stopped it before it could tell (then it is not judged).
bool analysed_as_pickle(const WeightFileReport& report, const PickleAnalysis& first) {
  return first.reached_stop || !report.globals.empty() ||
         std::any_of(first.problems.begin(), first.problems.end(), [](const WeightProblem& p) {
           return p.kind == WeightProblemKind::cap_exceeded ||
                  p.kind == WeightProblemKind::not_available;
         });
}

// Why the pickle analysis gave up, without the member the message starts with.
std::string why_not_a_pickle(const WeightFileReport& report) {
  auto broke = std::find_if(report.problems.begin(), report.problems.end(), [](const auto& p) {
    return p.kind == WeightProblemKind::pickle_malformed || p.kind == WeightProblemKind::truncated;
  });
  if (broke == report.problems.end()) return "it does not parse as one";
  std::string_view message = broke->message;
  if (message.starts_with(report.member + ": ")) message.remove_prefix(report.member.size() + 2);
  return std::string(message);
}

// Analyses the pickles at the start of the file, one after another; returns whether the
// first one is a pickle at all (analysed_as_pickle).
Result<bool> inspect_bare_pickle(const ByteSource& source, const WeightScanLimits& limits,
                                 WeightFileReport& report) {
  std::uint64_t offset = 0;
  bool is_pickle = false;
  for (int i = 0; i < kMaxChainedPickles && offset < source.size(); ++i) {
    std::string record = i == 0 ? "" : "pickle at offset " + std::to_string(offset);
    auto analysis =
        analyze_pickle_in(source, offset, source.size() - offset, record, limits, report);
    if (!analysis) return std::move(analysis).error();
    if (i == 0) is_pickle = analysed_as_pickle(report, *analysis);
    if (!analysis->reached_stop) break;
    offset += analysis->end_offset;
    // A second pickle behind the first is read by loaders that call load() again.
    auto next = read_held(source, offset, source.size() - offset, kWeightSniffBytes);
    if (!next) return std::move(next).error();
    if (!looks_like_pickle(next->bytes, next->cut)) break;
  }
  return is_pickle;
}

// Members of an unrecognised zip are looked at by content too.
Result<void> inspect_other_zip(const ByteSource& source, const ZipDirectory& directory,
                               const WeightScanLimits& limits, WeightFileReport& report) {
  std::vector<const ZipEntry*> read_already;
  for (const ZipEntry& entry : directory.entries) {
    if (!entry.located) continue;
    auto head = read_zip_member(source, entry, report.member, kWeightSniffBytes);
    if (!head) return std::move(head).error();
    if (!looks_like_pickle(head->bytes, entry.uncompressed_size > head->bytes.size())) continue;
    auto analysis = analyze_zip_pickle(source, entry, limits, report);
    if (!analysis) return std::move(analysis).error();
    read_already.push_back(&entry);
  }
  return check_zip_crcs(source, directory, read_already, limits, report);
}

Result<void> inspect_zip(const ByteSource& source, const WeightScanLimits& limits,
                         WeightFileReport& report) {
  auto directory = read_zip_directory(source, report.member, limits.zip);
  if (!directory) return std::move(directory).error();
  add_named_problems(report, directory->problems);
  if (!directory->complete) report.complete = false;
  if (directory->entries.empty()) return {};  // keep the format sniffed from the head
  if (is_torch_zip(*directory)) return inspect_torch_zip(source, *directory, limits, report);
  if (is_keras_zip(*directory)) {
    report.format = WeightFormat::keras_zip;
    return inspect_keras_zip(source, *directory, limits, report);
  }
  if (is_npz(*directory)) {
    report.format = WeightFormat::numpy_npz;
    return inspect_npz(source, *directory, limits, report);
  }
  report.format = WeightFormat::other_zip;
  return inspect_other_zip(source, *directory, limits, report);
}

// Says that a file with a pickle-loader name is no format smpack reads and not a pickle
// either; `attempt` holds what analysing it as one found.
void add_unrecognised(WeightFileReport& report, const WeightFileReport& attempt) {
  report.format = WeightFormat::unknown;
  add_problem(report, WeightProblemKind::unrecognised_format,
              "named like a file that torch.load, pickle.load or numpy.load unpickles, but it "
              "is none of the formats smpack reads, nor a pickle (" +
                  why_not_a_pickle(attempt) + ")");
}

// Content that only looked like a pickle, or none of the formats: a loader that unpickles
// whatever it is given (torch.load, pickle.load, numpy.load with allow_pickle) runs it all
// the same, so a file named for one is judged as a pickle.
Result<void> inspect_as_pickle(const ByteSource& source, std::span<const std::byte> head,
                               const WeightScanLimits& limits, WeightFileReport& report) {
  const bool loader_name = has_pickle_loader_name(report.member);
  if (report.format == WeightFormat::unknown) {
    if (!loader_name) return {};
    // A head that is no pickle prefix settles it without reading the rest: a raw
    // multi-GiB .bin is not read into memory to find that it is no pickle.
    PickleAnalysis head_analysis = analyze_head(head);
    if (!starts_like_pickle(head_analysis)) {
      WeightFileReport attempt = report;
      add_pickle_analysis(attempt, std::move(head_analysis), "");
      add_unrecognised(report, attempt);
      return {};
    }
  }
  WeightFileReport as_pickle = report;
  auto is_pickle = inspect_bare_pickle(source, limits, as_pickle);
  if (!is_pickle) return std::move(is_pickle).error();
  if (*is_pickle) {
    report = std::move(as_pickle);
    report.format = WeightFormat::pickle;
  } else if (loader_name) {
    add_unrecognised(report, as_pickle);
  } else {
    report.format = WeightFormat::unknown;  // not a weight file after all
  }
  return {};
}

}  // namespace

WeightFormat sniff_weight_format(std::span<const std::byte> head, std::string_view /*name*/) {
  std::string_view text = as_text(head);
  if (text.starts_with(kZipLocalMagic)) return sniff_zip(text);
  if (text.starts_with(kZipEmptyMagic)) return WeightFormat::other_zip;
  if (looks_like_npy(head)) return WeightFormat::numpy_npy;
  if (looks_like_torch_legacy(head)) return WeightFormat::pytorch_legacy;
  if (looks_like_safetensors(head)) return WeightFormat::safetensors;
  if (looks_like_hdf5(head)) return WeightFormat::hdf5;
  if (head_is_pickle(head)) return WeightFormat::pickle;
  return WeightFormat::unknown;
}

bool has_pickle_loader_name(std::string_view name) {
  const std::size_t dot = name.rfind('.');
  if (dot == std::string_view::npos || name.find('/', dot) != std::string_view::npos) return false;
  std::string extension(name.substr(dot + 1));
  std::transform(extension.begin(), extension.end(), extension.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return std::find(kPickleLoaderExtensions.begin(), kPickleLoaderExtensions.end(), extension) !=
         kPickleLoaderExtensions.end();
}

bool looks_like_weight_file(std::span<const std::byte> head, std::string_view name) {
  return has_pickle_loader_name(name) || sniff_weight_format(head, name) != WeightFormat::unknown;
}

Result<WeightFileReport> inspect_weight_file(std::string_view member, const ByteSource& source,
                                             const WeightScanLimits& limits) {
  WeightFileReport report;
  report.member = std::string(member);
  auto head = read_held(source, 0, source.size(), kWeightSniffBytes);
  if (!head) return std::move(head).error();
  if (head->bytes.empty() && source.size() > 0) {
    add_problem(report, WeightProblemKind::not_available, "its first bytes are not available");
    return report;
  }
  report.format = sniff_weight_format(head->bytes, member);
  Result<void> inspected;
  switch (report.format) {
    case WeightFormat::safetensors: {
      auto info = inspect_safetensors(source, member);
      if (!info) return std::move(info).error();
      add_named_problems(report, std::move(info->problems));
      if (!info->complete) report.complete = false;
      report.tensors = std::move(info->tensors);
      break;
    }
    case WeightFormat::pytorch_zip:
    case WeightFormat::torchscript_zip:
    case WeightFormat::numpy_npz:
    case WeightFormat::keras_zip:
    case WeightFormat::other_zip:
      inspected = inspect_zip(source, limits, report);
      break;
    case WeightFormat::hdf5:
      add_problem(report, WeightProblemKind::not_analysed,
                  "an HDF5 file, which smpack does not parse: a Keras .h5 model can hold Lambda "
                  "layers whose code runs on load; save it as .keras (its config is checked) or "
                  "the weights as safetensors");
      break;
    case WeightFormat::pytorch_legacy:
      inspected = inspect_torch_legacy(source, limits, report);
      break;
    case WeightFormat::numpy_npy:
      inspected = inspect_npy(source, member, limits, report);
      break;
    case WeightFormat::pickle:
    case WeightFormat::unknown:
      inspected = inspect_as_pickle(source, head->bytes, limits, report);
      break;
  }
  if (!inspected) return std::move(inspected).error();
  report.tensor_bytes = total_tensor_bytes(report.tensors);
  return report;
}

}  // namespace smpack
