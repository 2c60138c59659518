// Batch Transform offline, with the semantics of CreateTransformJob: every input file
// gives one FILE.out; SplitType Line cuts a file into records at '\n' (empty lines are
// not records); BatchStrategy MultiRecord sends as many whole records, joined by '\n', as
// fit in MaxPayloadInMB, SingleRecord one per request; AssembleWith Line writes '\n'
// after each response, None writes them back to back. A failed request is reported with
// its file and lines, and the job goes on.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smpack/cancel.h"
#include "smpack/invocation.h"
#include "smpack/result.h"

namespace smpack {

enum class SplitType { none, line };
enum class BatchStrategy { single_record, multi_record };
enum class AssembleWith { none, line };

// CreateTransformJob's names for them ("None", "Line", "SingleRecord", "MultiRecord").
const std::map<std::string, SplitType>& split_type_names();
const std::map<std::string, BatchStrategy>& batch_strategy_names();
const std::map<std::string, AssembleWith>& assemble_with_names();

struct BatchOptions {
  std::filesystem::path input;  // a file, or a folder whose files (recursively) are read
  std::filesystem::path output_dir;
  std::optional<std::string> content_type;
  std::optional<std::string> accept;
  SplitType split = SplitType::none;
  BatchStrategy strategy = BatchStrategy::multi_record;
  AssembleWith assemble = AssembleWith::none;
  std::uint64_t max_payload_bytes = 6u << 20;  // MaxPayloadInMB's default
};

struct RecordFailure {
  std::string file;              // relative to the input
  std::uint64_t first_line = 0;  // 1-based; 0 for SplitType None
  std::uint64_t last_line = 0;
  int status = 500;
  std::string message;
};

struct BatchReport {
  std::uint64_t files = 0;
  std::uint64_t records = 0;
  std::uint64_t requests = 0;
  std::vector<RecordFailure> failures;
  double seconds = 0;
};

// "FILE:LINE[-LINE]: STATUS: message", and the one-line summary of a job.
std::string describe_failure(const RecordFailure& failure);
std::string batch_summary(const BatchReport& report);

// Error for what stops the whole job (an unreadable input, an unwritable output folder,
// Ctrl-C); a request that fails is a RecordFailure.
Result<BatchReport> run_batch(const InvocationHandler& handler, const BatchOptions& options,
                              const CancelToken& cancel);

}  // namespace smpack
