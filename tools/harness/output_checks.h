// Numerical checks of model outputs: closeness with per-dtype tolerances, and NaN/Inf.
#pragma once

#include <torch/script.h>

#include <optional>
#include <string>
#include <vector>

#include "harness_report.h"

namespace smpack::harness {

struct Tolerance {
  double rtol = 0;
  double atol = 0;
};

// |actual - expected| <= atol + rtol · |expected| elementwise. Defaults by the dtype the
// outputs were computed in: float64 1e-7/1e-7, float32 1e-4/1e-5, float16 1e-2/1e-2,
// bfloat16 5e-2/5e-2; integers and booleans must be equal.
Tolerance default_tolerance(at::ScalarType computed_in);

// Against a CPU reference, a GPU's float32 gets rtol 1e-3 / atol 1e-4: its kernels sum in
// other orders and cuDNN may pick Winograd or FFT algorithms. Otherwise default_tolerance.
Tolerance reference_tolerance(at::ScalarType computed_in, const c10::Device& device);

// Compares output lists (count, shapes, values; NaN matches NaN) in float64 on the CPU.
// `tolerance` unset: the default for each actual output's dtype.
CheckResult compare_outputs(const std::string& name, const std::vector<at::Tensor>& actual,
                            const std::vector<at::Tensor>& expected,
                            std::optional<Tolerance> tolerance);

// Fails when any output holds NaN or Inf, naming the first such output.
CheckResult check_finite(const std::string& name, const std::vector<at::Tensor>& outputs);

// Passes when the two runs are bitwise identical, or within the default tolerance
// (the detail says which), e.g. GPU kernels that sum in a varying order.
CheckResult check_repeatable(const std::vector<at::Tensor>& first,
                             const std::vector<at::Tensor>& second);

}  // namespace smpack::harness
