#include "input_tensors.h"

#include <ATen/CPUGeneratorImpl.h>

#include "torch_types.h"

namespace smpack::harness {

std::vector<at::Tensor> random_inputs(const std::vector<InputSpec>& specs, std::uint64_t seed) {
  auto generator = at::detail::createCPUGenerator(seed);
  std::vector<at::Tensor> inputs;
  for (const auto& spec : specs) {
    const auto options = at::TensorOptions().dtype(scalar_type(spec.type));
    if (is_floating(spec.type)) {
      inputs.push_back(at::randn(spec.shape, generator, at::kFloat).to(scalar_type(spec.type)));
    } else if (spec.type == ElementType::boolean) {
      inputs.push_back(at::randint(0, 2, spec.shape, generator, at::kLong).to(at::kBool));
    } else {
      inputs.push_back(at::randint(0, spec.integer_high, spec.shape, generator, options));
    }
  }
  return inputs;
}

std::vector<at::Tensor> with_batch(const std::vector<at::Tensor>& inputs, std::int64_t batch) {
  std::vector<at::Tensor> resized;
  for (const auto& input : inputs) {
    if (input.dim() == 0 || input.size(0) == 0) {
      resized.push_back(input);
      continue;
    }
    const auto rows = at::arange(batch, at::kLong).remainder(input.size(0));
    resized.push_back(input.index_select(0, rows));
  }
  return resized;
}

std::int64_t batch_size(const std::vector<at::Tensor>& inputs) {
  for (const auto& input : inputs) {
    if (input.dim() > 0) return input.size(0);
  }
  return 1;
}

std::vector<at::Tensor> cast_floating(const std::vector<at::Tensor>& tensors, at::ScalarType type) {
  std::vector<at::Tensor> cast;
  for (const auto& tensor : tensors) {
    cast.push_back(at::isFloatingType(tensor.scalar_type()) ? tensor.to(type) : tensor);
  }
  return cast;
}

}  // namespace smpack::harness
