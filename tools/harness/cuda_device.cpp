#include "cuda_device.h"

#ifdef SMPACK_HARNESS_CUDA_STATS
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace smpack::harness {

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
