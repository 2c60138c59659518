#include "output_checks.h"

#include <algorithm>
#include <sstream>

#include "torch_types.h"

namespace smpack::harness {
namespace {

std::string shape_text(const at::Tensor& tensor) {
  std::ostringstream text;
  text << tensor.sizes();
  return text.str();
}

bool is_inexact(at::ScalarType type) {
  return at::isFloatingType(type) || at::isComplexType(type);
}

}  // namespace

Tolerance default_tolerance(at::ScalarType computed_in) {
  switch (computed_in) {
    case at::kDouble:
      return {1e-7, 1e-7};
    case at::kFloat:
      return {1e-4, 1e-5};
    case at::kHalf:
      return {1e-2, 1e-2};
    case at::kBFloat16:
      return {5e-2, 5e-2};
    default:
      return {0, 0};
  }
}

Tolerance reference_tolerance(at::ScalarType computed_in, const c10::Device& device) {
  if (device.is_cuda() && computed_in == at::kFloat) return {1e-3, 1e-4};
  return default_tolerance(computed_in);
}

CheckResult compare_outputs(const std::string& name, const std::vector<at::Tensor>& actual,
                            const std::vector<at::Tensor>& expected,
                            std::optional<Tolerance> tolerance) {
  CheckResult result{name, false, "", 0.0, 0.0};
  if (actual.size() != expected.size()) {
    result.detail =
        std::to_string(actual.size()) + " outputs, expected " + std::to_string(expected.size());
    return result;
  }
  std::size_t failing_output = actual.size();
  for (std::size_t i = 0; i < actual.size(); ++i) {
    if (actual[i].sizes() != expected[i].sizes()) {
      result.detail = "output " + std::to_string(i) + " has shape " + shape_text(actual[i]) +
                      ", expected " + shape_text(expected[i]);
      return result;
    }
    const auto limits = tolerance.value_or(default_tolerance(actual[i].scalar_type()));
    const auto got = actual[i].detach().to(at::kCPU, at::kDouble);
    const auto want = expected[i].detach().to(at::kCPU, at::kDouble);
    const auto both_nan = got.isnan().logical_and(want.isnan());
    const auto difference = (got - want).abs().masked_fill(both_nan, 0.0);
    const auto allowed = want.abs() * limits.rtol + limits.atol;
    // NaN in one side only compares false here, so it counts as a mismatch.
    const auto within = difference.le(allowed).logical_or(both_nan);
    const auto mismatches = within.logical_not().sum().item<std::int64_t>();
    if (got.numel() > 0) {
      const auto finite = difference.masked_fill(difference.isnan(), 0.0);
      result.max_abs_error = std::max(*result.max_abs_error, finite.max().item<double>());
      const auto relative = (finite / want.abs()).masked_fill(want.eq(0), 0.0);
      result.max_rel_error = std::max(
          *result.max_rel_error, relative.masked_fill(relative.isnan(), 0.0).max().item<double>());
    }
    if (mismatches > 0 && failing_output == actual.size()) {
      failing_output = i;
      std::ostringstream text;
      text << mismatches << " of " << got.numel() << " values of output " << i
           << " outside rtol=" << limits.rtol << " atol=" << limits.atol;
      result.detail = text.str();
    }
  }
  result.passed = failing_output == actual.size();
  if (result.passed) result.detail = std::to_string(actual.size()) + " outputs within tolerance";
  return result;
}

CheckResult check_finite(const std::string& name, const std::vector<at::Tensor>& outputs) {
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (!is_inexact(outputs[i].scalar_type())) continue;
    const auto summary = summarize_tensor("", outputs[i]);
    if (summary.nan_count + summary.inf_count > 0) {
      return {name, false,
              "output " + std::to_string(i) + " holds " + std::to_string(summary.nan_count) +
                  " NaN and " + std::to_string(summary.inf_count) + " Inf",
              std::nullopt, std::nullopt};
    }
  }
  return {name, true, "no NaN or Inf", std::nullopt, std::nullopt};
}

CheckResult check_repeatable(const std::vector<at::Tensor>& first,
                             const std::vector<at::Tensor>& second) {
  auto result = compare_outputs("repeat run", second, first, std::nullopt);
  if (!result.passed) return result;
  bool identical = true;
  for (std::size_t i = 0; i < first.size(); ++i) {
    identical = identical && first[i].scalar_type() == second[i].scalar_type() &&
                at::equal(first[i], second[i]);
  }
  result.detail = identical ? "bitwise identical" : "not bitwise identical, within tolerance";
  return result;
}

}  // namespace smpack::harness
