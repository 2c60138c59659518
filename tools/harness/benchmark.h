// Timed forward passes: warm-up runs, then timed runs, each ended by a device
// synchronisation so a GPU's queued kernels are counted; and a batch-size sweep that
// stops at the first out-of-memory.
#pragma once

#include <torch/script.h>

#include <chrono>
#include <cstdint>
#include <vector>

#include "harness_report.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack::harness {

// Waits for the device's queued work (a no-op on the CPU).
void synchronize(const c10::Device& device);

double milliseconds_since(std::chrono::steady_clock::time_point start);

struct TimingPlan {
  int warmup = 5;
  int iters = 20;
};

// Latency of each timed run in milliseconds, with peak device memory over them all.
// Error::bad_input when the model throws (its message says "out of memory" for OOM),
// Error::interrupted when `cancel` is set between runs.
struct TimedRuns {
  std::vector<double> milliseconds;
  std::optional<std::uint64_t> peak_memory_bytes;
};
Result<TimedRuns> time_forward(torch::jit::Module& module, const std::vector<at::Tensor>& inputs,
                               const c10::Device& device, const TimingPlan& plan,
                               const CancelToken& cancel);

// Times each batch size in turn (inputs resized with with_batch, on the device);
// the point that runs out of memory is recorded as not fitting and ends the sweep.
// `measured`, a batch already timed with the same plan, is reused rather than timed again.
Result<std::vector<BatchPoint>> sweep_batches(torch::jit::Module& module,
                                              const std::vector<at::Tensor>& cpu_inputs,
                                              const std::vector<std::int64_t>& batches,
                                              const std::optional<BatchPoint>& measured,
                                              const c10::Device& device, const TimingPlan& plan,
                                              const CancelToken& cancel);

}  // namespace smpack::harness
