// The tensors fed to the model: random ones from --input specs (seeded, on the CPU, so
// every device sees the same values), resized along the batch dimension, or cast.
#pragma once

#include <torch/script.h>

#include <cstdint>
#include <vector>

#include "input_spec.h"

namespace smpack::harness {

// Floating inputs ~ N(0, 1), integers uniform in [0, HIGH), booleans fair coins.
// The same specs and seed give the same tensors on any run.
std::vector<at::Tensor> random_inputs(const std::vector<InputSpec>& specs, std::uint64_t seed);

// Each input with `batch` rows along dimension 0, cycling through its rows (so values
// stay ones the model accepts, e.g. token ids); scalars stay as they are.
std::vector<at::Tensor> with_batch(const std::vector<at::Tensor>& inputs, std::int64_t batch);

// The batch size of the inputs: dimension 0 of the first input with one, else 1.
std::int64_t batch_size(const std::vector<at::Tensor>& inputs);

// Floating tensors cast to `type`; other tensors unchanged.
std::vector<at::Tensor> cast_floating(const std::vector<at::Tensor>& tensors, at::ScalarType type);

}  // namespace smpack::harness
