#include "torch_model.h"

#include "saved_tensors.h"
#include "torch_types.h"

namespace smpack::harness {
namespace {

constexpr int kMaxOutputNesting = 16;

Result<void> flatten(const c10::IValue& value, std::vector<at::Tensor>& tensors, int depth) {
  if (depth > kMaxOutputNesting) return Error::bad_input("output nested too deeply");
  if (value.isTensor()) {
    tensors.push_back(value.toTensor());
    return {};
  }
  std::vector<c10::IValue> items;
  if (value.isTuple()) {
    for (const auto& item : value.toTupleRef().elements()) items.push_back(item);
  } else if (value.isList()) {
    for (const auto& item : value.toListRef()) items.push_back(item);
  } else if (value.isGenericDict()) {
    for (const auto& entry : value.toGenericDict()) items.push_back(entry.value());
  } else {
    return Error::bad_input("the model returned a " + value.tagKind() + ", not tensors");
  }
  for (const auto& item : items) {
    if (auto flattened = flatten(item, tensors, depth + 1); !flattened) return flattened;
  }
  return {};
}

}  // namespace

Result<torch::jit::Module> load_torchscript(const std::string& bytes, const c10::Device& device) {
  try {
    auto module = torch::jit::load(std::make_shared<MemoryReadAdapter>(bytes), device);
    module.eval();
    return module;
  } catch (const std::exception& error) {
    return Error::bad_input("torch::jit::load failed: " + torch_message(error));
  }
}

Result<std::vector<at::Tensor>> run_forward(torch::jit::Module& module,
                                            const std::vector<at::Tensor>& inputs) {
  try {
    const auto output = module.forward(std::vector<c10::IValue>(inputs.begin(), inputs.end()));
    std::vector<at::Tensor> tensors;
    if (auto flattened = flatten(output, tensors, 0); !flattened)
      return std::move(flattened).error();
    return tensors;
  } catch (const std::exception& error) {
    return Error::bad_input("forward failed: " + torch_message(error));
  }
}

}  // namespace smpack::harness
