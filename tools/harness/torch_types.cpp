#include "torch_types.h"

namespace smpack::harness {

at::ScalarType scalar_type(ElementType type) {
  switch (type) {
    case ElementType::float64:
      return at::kDouble;
    case ElementType::float32:
      return at::kFloat;
    case ElementType::float16:
      return at::kHalf;
    case ElementType::bfloat16:
      return at::kBFloat16;
    case ElementType::int64:
      return at::kLong;
    case ElementType::int32:
      return at::kInt;
    case ElementType::int16:
      return at::kShort;
    case ElementType::int8:
      return at::kChar;
    case ElementType::uint8:
      return at::kByte;
    case ElementType::boolean:
      return at::kBool;
  }
  return at::kFloat;
}

std::string dtype_name(at::ScalarType type) {
  for (const auto known :
       {ElementType::float64, ElementType::float32, ElementType::float16, ElementType::bfloat16,
        ElementType::int64, ElementType::int32, ElementType::int16, ElementType::int8,
        ElementType::uint8, ElementType::boolean}) {
    if (scalar_type(known) == type) return std::string(element_type_name(known));
  }
  return c10::toString(type);
}

TensorSummary summarize_tensor(const std::string& name, const at::Tensor& tensor) {
  TensorSummary summary;
  summary.name = name;
  summary.shape = tensor.sizes().vec();
  summary.dtype = dtype_name(tensor.scalar_type());
  summary.bytes = static_cast<std::uint64_t>(tensor.numel()) * tensor.element_size();
  if (at::isFloatingType(tensor.scalar_type()) || at::isComplexType(tensor.scalar_type())) {
    summary.nan_count = static_cast<std::uint64_t>(tensor.isnan().sum().item<std::int64_t>());
    summary.inf_count = static_cast<std::uint64_t>(tensor.isinf().sum().item<std::int64_t>());
  }
  return summary;
}

std::vector<TensorSummary> summarize_tensors(const std::string& prefix,
                                             const std::vector<at::Tensor>& tensors) {
  std::vector<TensorSummary> summaries;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    summaries.push_back(summarize_tensor(prefix + "[" + std::to_string(i) + "]", tensors[i]));
  }
  return summaries;
}

std::vector<at::Tensor> to_device(const std::vector<at::Tensor>& tensors,
                                  const c10::Device& device) {
  std::vector<at::Tensor> moved;
  for (const auto& tensor : tensors) moved.push_back(tensor.to(device));
  return moved;
}

std::string torch_message(const std::exception& error) {
  const auto* torch_error = dynamic_cast<const c10::Error*>(&error);
  std::string text = torch_error != nullptr ? torch_error->what_without_backtrace() : error.what();
  // The TorchScript interpreter puts its cause last, after a listing of the failing code.
  constexpr std::string_view kInterpreter =
      "The following operation failed in the TorchScript interpreter";
  if (text.starts_with(kInterpreter)) {
    while (!text.empty() && text.back() == '\n') text.pop_back();
    return text.substr(text.rfind('\n') + 1);
  }
  if (const auto newline = text.find('\n'); newline != std::string::npos) text.resize(newline);
  return text;
}

}  // namespace smpack::harness
