// What the CUDA allocator and runtime can tell about a GPU. Built against a LibTorch
// whose CUDA headers compile (SMPACK_HARNESS_CUDA_STATS); elsewhere every answer is
// "unknown" and the reset/release calls do nothing.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

namespace smpack::harness {

std::string cuda_device_name(int device_index);  // "" when unknown
void reset_cuda_peak_memory(int device_index);
std::optional<std::uint64_t> cuda_peak_memory_bytes(int device_index);  // since the last reset
// Hands cached blocks back after an out-of-memory, so the next attempt starts clean.
void release_cuda_cache();

}  // namespace smpack::harness
