// A static analyser for Python pickles: it simulates the unpickler's stack and memo
// (never a backwards scan over opcodes) without importing or calling anything, and
// says what loading the pickle would import, whether that is limited to PyTorch's
// weights_only allowlist, and which torch tensors it would rebuild.
//
// Grammar: a pickle is a sequence of opcodes (protocols 0-5, CPython's
// Lib/pickletools.py) ending at STOP. GLOBAL/INST name a global by two text lines,
// STACK_GLOBAL by two strings on the stack (literal or fetched from the memo), and
// protocol 4 resolves dotted names as attribute chains. PyTorch stores tensors as
// REDUCE(torch._utils._rebuild_tensor_v2, (storage, offset, size, stride, ...)),
// where `storage` comes from BINPERSID(('storage', <dtype>Storage, key, location,
// numel)) and names the record data/<key> of the checkpoint.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smpack/weight_report.h"

namespace smpack {

struct PickleLimits {
  std::uint64_t max_opcodes = 4'000'000;
  std::uint64_t max_stack_depth = 1'000'000;  // stack values plus open MARKs
  std::uint64_t max_memo_entries = 1'000'000;
  std::uint64_t max_tensors = 1'000'000;  // tensors listed in PickleAnalysis::tensors
  // What the simulated objects may hold (estimated; a state dict takes about 1.3 KiB a
  // tensor, so this is over 100,000 tensors).
  std::uint64_t max_memory_bytes = 160ull << 20;
  // Past it the analysis stops as at a cap (checked every few thousand opcodes).
  std::optional<std::chrono::steady_clock::time_point> deadline;
};

// A storage named by a persistent id ('storage', <Type>Storage, key, location, numel).
struct PickleStorageRef {
  std::string key;
  std::string dtype;               // "float32", ...; "unknown" for unknown storage types
  std::uint64_t element_size = 0;  // bytes per element; 0 when the dtype is unknown
  std::uint64_t numel = 0;
  std::string location;  // "cpu", "cuda:0", ...
};

// Where a listed tensor's elements sit in its storage, for readers that rebuild it.
struct PickleTensorLayout {
  std::string storage_key;            // the record data/<key>
  std::uint64_t storage_offset = 0;   // in elements
  std::vector<std::int64_t> strides;  // in elements, one per dimension
};

struct PickleAnalysis {
  PickleVerdict verdict = PickleVerdict::weights_only;
  std::vector<std::string> globals;  // "module.name" in first-seen order, each once
  // Messages name the opcode and its byte offset in the pickle; callers prefix the
  // member and record.
  std::vector<WeightProblem> problems;
  // Tensors reachable from the unpickled object, named by their path in it
  // ("model.layer.0.weight" for {'model': {'layer.0.weight': t}}).
  std::vector<TensorInfo> tensors;
  std::vector<PickleTensorLayout> layouts;  // tensors[i]'s storage and view
  std::vector<PickleStorageRef> storages;   // one per distinct key, first-seen order
  int protocol = 0;                         // from PROTO; 0 when there is none
  std::uint64_t end_offset = 0;             // just past STOP, or where the analysis stopped
  bool reached_stop = false;
  bool complete = true;  // false after a parse error, truncation or a cap
};

// Analyses the pickle starting at bytes[0] up to its STOP; bytes after STOP are not
// looked at (end_offset says where they start). Never fails: malformed input,
// truncation and caps become problems, with everything seen up to there reported.
PickleAnalysis analyze_pickle(std::span<const std::byte> bytes, const PickleLimits& limits = {});

// How a single global would be judged; `module` and `name` as the pickle spells them.
PickleVerdict classify_global(std::string_view module, std::string_view name);

// Whether "module.name" is what a pickled sklearn or xgboost estimator imports (their
// classes, numpy's and scipy's rebuilders, object reconstruction), and not a loader:
// the sklearn and xgboost profiles accept bare pickles of only these.
bool is_estimator_global(std::string_view qualified_name);

}  // namespace smpack
