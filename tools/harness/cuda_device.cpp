#include "cuda_device.h"

#include <torch/cuda.h>

#ifdef SMPACK_HARNESS_CUDA_STATS
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace smpack::harness {

Result<c10::Device> choose_device(const std::optional<std::string>& requested) {
  if (!requested)
    return torch::cuda::is_available() ? c10::Device(c10::kCUDA, 0) : c10::Device(c10::kCPU);
  if (*requested == "cpu") return c10::Device(c10::kCPU);
  if (!torch::cuda::is_available()) {
    return Error::usage("--device " + *requested + ": this LibTorch sees no CUDA device");
  }
  const auto count = static_cast<int>(torch::cuda::device_count());
  const int index = *requested == "cuda" ? 0 : std::stoi(requested->substr(5));
  if (index >= count) {
    return Error::usage("--device " + *requested + ": only " + std::to_string(count) +
                        " CUDA device(s)");
  }
  return c10::Device(c10::kCUDA, static_cast<c10::DeviceIndex>(index));
}

#ifdef SMPACK_HARNESS_CUDA_STATS
namespace allocator = c10::cuda::CUDACachingAllocator;

std::string cuda_device_name(int device_index) {
  return at::cuda::getDeviceProperties(static_cast<c10::DeviceIndex>(device_index))->name;
}

void reset_cuda_peak_memory(int device_index) {
  allocator::resetPeakStats(static_cast<c10::DeviceIndex>(device_index));
}

std::optional<std::uint64_t> cuda_peak_memory_bytes(int device_index) {
  const auto stats = allocator::getDeviceStats(static_cast<c10::DeviceIndex>(device_index));
  return static_cast<std::uint64_t>(stats.allocated_bytes[0].peak);  // [0]: all pools together
}

void release_cuda_cache() {
  allocator::emptyCache();
}
#else
std::string cuda_device_name(int) {
  return "";
}
void reset_cuda_peak_memory(int) {}
std::optional<std::uint64_t> cuda_peak_memory_bytes(int) {
  return std::nullopt;
}
void release_cuda_cache() {}
#endif

}  // namespace smpack::harness
