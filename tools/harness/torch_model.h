// A TorchScript model loaded from bytes in memory, and its forward pass with the outputs
// flattened into a list of tensors.
#pragma once

#include <torch/script.h>

#include <string>
#include <vector>

#include "smpack/result.h"

namespace smpack::harness {

// torch::jit::load straight from memory onto `device`, in eval mode (as the serving
// container's predict_fn sets it). Error::bad_input with Torch's message when it fails.
Result<torch::jit::Module> load_torchscript(const std::string& bytes, const c10::Device& device);

// forward(inputs...): the output as a list of tensors (a tensor; a tuple or list of
// them, nested; a dict's values in order). Error::bad_input when the model throws or
// returns something else.
Result<std::vector<at::Tensor>> run_forward(torch::jit::Module& module,
                                            const std::vector<at::Tensor>& inputs);

}  // namespace smpack::harness
