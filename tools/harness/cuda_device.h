// What the CUDA allocator and runtime can tell about a GPU. Built against a LibTorch
// whose CUDA headers compile (SMPACK_HARNESS_CUDA_STATS); elsewhere every answer is
// "unknown" and the reset/release calls do nothing.
#pragma once

#include <c10/core/Device.h>

#include <cstdint>
#include <optional>
#include <string>

#include "smpack/result.h"

namespace smpack::harness {

// --device: "cpu", "cuda" or "cuda:N"; unset: the first GPU when there is one, else the
// CPU. Error::usage when the GPU asked for is not there.
Result<c10::Device> choose_device(const std::optional<std::string>& requested);

std::string cuda_device_name(int device_index);  // "" when unknown
void reset_cuda_peak_memory(int device_index);
std::optional<std::uint64_t> cuda_peak_memory_bytes(int device_index);  // since the last reset
// Hands cached blocks back after an out-of-memory, so the next attempt starts clean.
void release_cuda_cache();

}  // namespace smpack::harness
