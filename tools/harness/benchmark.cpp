#include "benchmark.h"

#include <torch/cuda.h>

#include "cuda_device.h"
#include "input_tensors.h"
#include "torch_model.h"
#include "torch_types.h"

namespace smpack::harness {
namespace {

bool is_out_of_memory(const Error& error) {
  return error.message.find("out of memory") != std::string::npos ||
         error.message.find("not enough memory") != std::string::npos ||
         error.message.find("std::bad_alloc") != std::string::npos;
}

}  // namespace

void synchronize(const c10::Device& device) {
  if (device.is_cuda()) torch::cuda::synchronize(device.index());
}

double milliseconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
      .count();
}

Result<TimedRuns> time_forward(torch::jit::Module& module, const std::vector<at::Tensor>& inputs,
                               const c10::Device& device, const TimingPlan& plan,
                               const CancelToken& cancel) {
  const int device_index = device.is_cuda() ? device.index() : -1;
  if (device.is_cuda()) reset_cuda_peak_memory(device_index);
  TimedRuns runs;
  for (int run = 0; run < plan.warmup + plan.iters; ++run) {
    if (cancel.cancelled()) return Error::interrupted();
    synchronize(device);
    const auto start = std::chrono::steady_clock::now();
    auto outputs = run_forward(module, inputs);
    if (!outputs) return std::move(outputs).error();
    synchronize(device);
    if (run >= plan.warmup) runs.milliseconds.push_back(milliseconds_since(start));
  }
  if (device.is_cuda()) runs.peak_memory_bytes = cuda_peak_memory_bytes(device_index);
  return runs;
}

Result<std::vector<BatchPoint>> sweep_batches(torch::jit::Module& module,
                                              const std::vector<at::Tensor>& cpu_inputs,
                                              const std::vector<std::int64_t>& batches,
                                              const std::optional<BatchPoint>& measured,
                                              const c10::Device& device, const TimingPlan& plan,
                                              const CancelToken& cancel) {
  std::vector<BatchPoint> points;
  for (const auto batch : batches) {
    if (measured && measured->batch == batch) {
      points.push_back(*measured);
      continue;
    }
    BatchPoint point;
    point.batch = batch;
    Result<TimedRuns> runs = Error::internal("not run");
    try {
      runs = time_forward(module, to_device(with_batch(cpu_inputs, batch), device), device, plan,
                          cancel);
    } catch (const std::exception& error) {  // allocating the inputs themselves
      runs = Error::bad_input(torch_message(error));
    }
    if (!runs && is_out_of_memory(runs.error())) {
      release_cuda_cache();
      points.push_back(point);
      break;
    }
    if (!runs) return std::move(runs).error().with_context("batch " + std::to_string(batch));
    point.fits = true;
    point.latency = summarize_latencies(runs->milliseconds, batch);
    point.peak_memory_bytes = runs->peak_memory_bytes;
    points.push_back(point);
  }
  return points;
}

}  // namespace smpack::harness
