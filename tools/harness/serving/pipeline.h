// An inference pipeline model: 2 to 5 containers, where the response of stage N, with its
// content type, is the request of stage N+1, as SageMaker chains them. The client's
// Accept goes to the last stage; the others answer with their default accept.
#pragma once

#include <memory>
#include <vector>

#include "smpack/invocation.h"

namespace smpack::harness {

class Pipeline final : public InvocationHandler {
 public:
  explicit Pipeline(std::vector<std::unique_ptr<InvocationHandler>> stages)
      : stages_(std::move(stages)) {}

  // A stage's error ends the chain: its status, its message after "stage N: ".
  InvocationResponse invoke(const Invocation& request) const override;

 private:
  std::vector<std::unique_ptr<InvocationHandler>> stages_;
};

}  // namespace smpack::harness
