#include "weights/weight_report_builder.h"

#include <algorithm>
#include <limits>
#include <unordered_set>

namespace smpack {

void add_problem(WeightFileReport& report, WeightProblemKind kind, std::string_view message) {
  add_named_problems(report, {{kind, report.member + ": " + std::string(message)}});
}

void add_named_problems(WeightFileReport& report, std::vector<WeightProblem> problems) {
  for (WeightProblem& problem : problems) {
    if (problem.kind == WeightProblemKind::not_available ||
        problem.kind == WeightProblemKind::cap_exceeded ||
        problem.kind == WeightProblemKind::pickle_not_judged ||
        problem.kind == WeightProblemKind::truncated) {
      report.complete = false;
    }
    report.problems.push_back(std::move(problem));
  }
}

void add_pickle_analysis(WeightFileReport& report, PickleAnalysis analysis,
                         std::string_view record) {
  report.verdict = report.verdict ? worse(*report.verdict, analysis.verdict) : analysis.verdict;
  for (std::string& global : analysis.globals) {
    if (std::find(report.globals.begin(), report.globals.end(), global) == report.globals.end()) {
      report.globals.push_back(std::move(global));
    }
  }
  std::string prefix = report.member + ": ";
  if (!record.empty()) prefix += std::string(record) + ": ";
  for (WeightProblem& problem : analysis.problems) {
    problem.message = prefix + problem.message;
    // What comes after the point a cap or missing bytes stopped at was never judged and
    // could hold the payload: the pickle is refused, or the cap would be the bypass.
    if (!analysis.reached_stop && (problem.kind == WeightProblemKind::cap_exceeded ||
                                   problem.kind == WeightProblemKind::not_available)) {
      problem.kind = WeightProblemKind::pickle_not_judged;
      problem.message += "; the rest of the pickle could not be judged";
    }
  }
  add_named_problems(report, std::move(analysis.problems));
  if (!analysis.complete) report.complete = false;
  for (TensorInfo& tensor : analysis.tensors) report.tensors.push_back(std::move(tensor));
  report.tensor_bytes = total_tensor_bytes(report.tensors);
}

Result<HeldBytes> read_held(const ByteSource& source, std::uint64_t offset, std::uint64_t length,
                            std::uint64_t max_bytes) {
  HeldBytes out;
  std::uint64_t wanted = std::min(length, max_bytes);
  std::uint64_t held = std::min(source.held_from(offset), wanted);
  out.cut = held < length;
  out.bytes.resize(static_cast<std::size_t>(held));
  if (held > 0) {
    auto read = source.read_at(offset, out.bytes);
    if (!read) return std::move(read).error();
  }
  return out;
}

namespace {

// A pickle whose bytes were cut short by the source is not "truncated": say so.
void reword_cut_pickle(PickleAnalysis& analysis, std::uint64_t available, bool by_cap) {
  for (WeightProblem& problem : analysis.problems) {
    if (problem.kind != WeightProblemKind::truncated) continue;
    problem.kind = by_cap ? WeightProblemKind::cap_exceeded : WeightProblemKind::not_available;
    problem.message +=
        by_cap ? " (only the first " + std::to_string(available) +
                     " bytes were analysed: the pickle size cap)"
               : " (only the first " + std::to_string(available) + " bytes of it are available)";
  }
}

PickleAnalysis not_judged_pickle(std::string message) {
  PickleAnalysis analysis;
  analysis.complete = false;
  analysis.problems.push_back({WeightProblemKind::cap_exceeded, std::move(message)});
  return analysis;
}

// The budget's share for reading `bytes` to analyse them; the message when it is gone.
std::optional<std::string> spend_budget(const WeightScanLimits& limits, std::uint64_t bytes) {
  if (limits.budget == nullptr || limits.budget->spend(bytes)) return std::nullopt;
  return limits.budget->exhausted_message();
}

// Why a compressed zip record is not inflated: it would inflate beyond the ratio that
// smpack follows (WeightScanLimits::max_inflation_ratio).
std::optional<std::string> inflation_refused(const ZipEntry& entry,
                                             const WeightScanLimits& limits) {
  if (entry.method == 0 || entry.uncompressed_size <= limits.inflate_any_ratio_bytes) {
    return std::nullopt;
  }
  const std::uint64_t compressed = std::max<std::uint64_t>(entry.compressed_size, 1);
  if (entry.uncompressed_size / compressed < limits.max_inflation_ratio) return std::nullopt;
  return "entry " + entry.name + " would inflate " + std::to_string(compressed) + " bytes to " +
         std::to_string(entry.uncompressed_size) + ", more than " +
         std::to_string(limits.max_inflation_ratio) + " to 1, and was not inflated";
}

}  // namespace

Result<PickleAnalysis> analyze_pickle_in(const ByteSource& source, std::uint64_t offset,
                                         std::uint64_t length, std::string_view record,
                                         const WeightScanLimits& limits, WeightFileReport& report) {
  if (auto refused = spend_budget(limits, std::min(length, limits.max_pickle_bytes))) {
    PickleAnalysis analysis = not_judged_pickle(*refused);
    add_pickle_analysis(report, analysis, record);
    return analysis;
  }
  auto held = read_held(source, offset, length, limits.max_pickle_bytes);
  if (!held) return std::move(held).error();
  PickleAnalysis analysis = analyze_pickle(held->bytes, limits.pickle);
  if (held->cut) {
    bool by_cap = length > limits.max_pickle_bytes && held->bytes.size() == limits.max_pickle_bytes;
    reword_cut_pickle(analysis, held->bytes.size(), by_cap);
  }
  PickleAnalysis copy = analysis;
  add_pickle_analysis(report, std::move(copy), record);
  return analysis;
}

Result<PickleAnalysis> analyze_zip_pickle(const ByteSource& source, const ZipEntry& entry,
                                          const WeightScanLimits& limits,
                                          WeightFileReport& report) {
  auto refused = inflation_refused(entry, limits);
  if (!refused)
    refused = spend_budget(limits, std::min(entry.uncompressed_size, limits.max_pickle_bytes));
  if (refused) {
    PickleAnalysis analysis = not_judged_pickle(*refused);
    add_pickle_analysis(report, analysis, entry.name);
    return analysis;
  }
  auto data = read_zip_member(source, entry, report.member, limits.max_pickle_bytes);
  if (!data) return std::move(data).error();
  add_named_problems(report, std::move(data->problems));
  MemoryByteSource bytes(data->bytes);
  return analyze_pickle_in(bytes, 0, bytes.size(), entry.name, limits, report);
}

Result<void> check_zip_crcs(const ByteSource& source, const ZipDirectory& directory,
                            const std::vector<const ZipEntry*>& already_checked,
                            const WeightScanLimits& limits, WeightFileReport& report) {
  std::uint64_t budget = limits.crc_check_bytes;
  std::uint64_t not_held = 0;
  std::string first_not_held;
  std::optional<std::string> skipped;  // why some CRCs were not checked
  for (const ZipEntry& entry : directory.entries) {
    if (!entry.located || entry.uncompressed_size > budget ||
        std::find(already_checked.begin(), already_checked.end(), &entry) !=
            already_checked.end()) {
      continue;
    }
    if (!source.holds(entry.data_offset, entry.compressed_size)) {
      if (not_held++ == 0) first_not_held = entry.name;
      continue;
    }
    if (auto refused = inflation_refused(entry, limits)) {
      if (!skipped) skipped = *refused;
      continue;
    }
    if (auto refused = spend_budget(limits, entry.uncompressed_size)) {
      skipped = *refused;
      break;
    }
    budget -= entry.uncompressed_size;
    auto checked =
        stream_zip_member(source, entry, report.member, [](std::span<const std::byte>) {});
    if (!checked) return std::move(checked).error();
    add_named_problems(report, std::move(checked->problems));
  }
  if (not_held > 0) {
    add_problem(report, WeightProblemKind::not_available,
                "the data of " + std::to_string(not_held) + " members (the first: " +
                    first_not_held + ") is not available; their CRCs were not checked");
  }
  if (skipped)
    add_problem(report, WeightProblemKind::cap_exceeded, "CRCs not checked: " + *skipped);
  return {};
}

std::uint64_t total_tensor_bytes(const std::vector<TensorInfo>& tensors) {
  std::uint64_t total = 0;
  for (const TensorInfo& tensor : tensors) {
    total = tensor.bytes > std::numeric_limits<std::uint64_t>::max() - total
                ? std::numeric_limits<std::uint64_t>::max()
                : total + tensor.bytes;
  }
  return total;
}

}  // namespace smpack
