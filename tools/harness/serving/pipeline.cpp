#include "serving/pipeline.h"

namespace smpack::harness {

InvocationResponse Pipeline::invoke(const Invocation& request) const {
  Invocation stage_request{request.body, request.content_type, std::nullopt};
  InvocationResponse response;
  for (std::size_t i = 0; i < stages_.size(); ++i) {
    if (i + 1 == stages_.size()) stage_request.accept = request.accept;
    response = stages_[i]->invoke(stage_request);
    if (response.status != 200) {
      response.body = "stage " + std::to_string(i + 1) + ": " + response.body;
      return response;
    }
    stage_request.body = std::move(response.body);
    stage_request.content_type = response.content_type;
  }
  response.body = std::move(stage_request.body);
  return response;
}

}  // namespace smpack::harness
