// A TorchScript model behind the PyTorch container's default handlers
// (sagemaker-pytorch-inference 2.0.25): default_input_fn decodes the body and makes a
// tensor on the model's device, default_predict_fn runs forward without gradients,
// default_output_fn encodes tensor.tolist() for the first supported type in Accept.
#pragma once

#include <torch/script.h>

#include <memory>
#include <string>

#include "serving/served_model.h"
#include "smpack/invocation.h"

namespace smpack::harness {

class TorchScriptEndpoint final : public InvocationHandler {
 public:
  // Loads the model onto `device`. `default_accept` answers a request without Accept
  // (SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, else application/json).
  static Result<std::unique_ptr<TorchScriptEndpoint>> load(const ServedModel& model,
                                                           const c10::Device& device,
                                                           std::string default_accept);

  InvocationResponse invoke(const Invocation& request) const override;

 private:
  TorchScriptEndpoint(torch::jit::Module module, c10::Device device, std::string default_accept)
      : module_(std::move(module)), device_(device), default_accept_(std::move(default_accept)) {}

  // forward() is const in effect: TorchScript modules may run on several threads.
  mutable torch::jit::Module module_;
  c10::Device device_;
  std::string default_accept_;
};

}  // namespace smpack::harness
