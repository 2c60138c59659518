// Small bridges between the harness's plain types and Torch's: element types, tensor
// summaries, and Torch's exception text.
#pragma once

#include <torch/script.h>

#include <exception>
#include <string>
#include <vector>

#include "harness_report.h"
#include "input_spec.h"

namespace smpack::harness {

at::ScalarType scalar_type(ElementType type);

// Torch's Python spelling ("float32", "bfloat16"), as --input and --dtype take it.
std::string dtype_name(at::ScalarType type);

// Name, shape, dtype, bytes, and NaN/Inf counts (counted on the tensor's own device).
TensorSummary summarize_tensor(const std::string& name, const at::Tensor& tensor);
std::vector<TensorSummary> summarize_tensors(const std::string& prefix,
                                             const std::vector<at::Tensor>& tensors);

std::vector<at::Tensor> to_device(const std::vector<at::Tensor>& tensors,
                                  const c10::Device& device);

// The line of a Torch exception that says what went wrong: its messages carry a C++
// backtrace or a TorchScript listing besides.
std::string torch_message(const std::exception& error);

}  // namespace smpack::harness
