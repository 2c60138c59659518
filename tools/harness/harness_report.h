// What a harness run found, as plain data; rendered as a text table for people or as
// JSON for machines. Holds no Torch types so that it renders without LibTorch.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "latency_stats.h"

namespace smpack::harness {

struct CheckResult {
  std::string name;  // "expected outputs", "cpu float64 reference", "repeat run", ...
  bool passed = false;
  std::string detail;
  std::optional<double> max_abs_error;
  std::optional<double> max_rel_error;
};

struct TensorSummary {
  std::string name;
  std::vector<std::int64_t> shape;
  std::string dtype;
  std::uint64_t bytes = 0;
  std::uint64_t nan_count = 0;
  std::uint64_t inf_count = 0;
};

struct BatchPoint {
  std::int64_t batch = 0;
  bool fits = false;  // false: out of memory
  LatencySummary latency;
  std::optional<std::uint64_t> peak_memory_bytes;
};

// `unrecognised`: neither TorchScript nor torch.save (a bare pickle, a script, damage).
enum class ModelKind { unrecognised, torchscript, state_dict, pickled_object };

struct HarnessReport {
  std::string source;
  std::string model_member;
  ModelKind model_kind = ModelKind::unrecognised;
  std::uint64_t model_bytes = 0;
  std::string device;
  std::string device_name;
  std::string torch_version;
  std::optional<double> cold_load_ms;     // opening the archive → model ready on the device
  std::optional<double> first_result_ms;  // opening the archive → first output on the host
  std::vector<TensorSummary> inputs;
  std::vector<TensorSummary> outputs;
  std::vector<CheckResult> checks;
  std::optional<LatencySummary> latency;
  std::int64_t batch = 0;
  std::optional<std::uint64_t> peak_memory_bytes;
  std::vector<BatchPoint> batch_sweep;
  std::vector<TensorSummary> saved_tensors;    // state-dict inventory
  std::vector<std::string> python_classes;     // what a pickled object needs to be rebuilt
  std::vector<std::string> dangerous_globals;  // ... of which these run code or commands
  std::vector<std::string> notes;

  bool passed() const;  // every check passed
};

std::string model_kind_name(ModelKind kind);
// The largest batch of the sweep that fit, if any did.
std::optional<std::int64_t> largest_fitting_batch(const HarnessReport& report);

std::string render_text(const HarnessReport& report);
std::string render_json(const HarnessReport& report);  // pretty-printed, newline-terminated

}  // namespace smpack::harness
