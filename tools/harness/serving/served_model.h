// The model an endpoint serves, read out of its artifact as the PyTorch container's
// default handlers would find it: the model member (model_choice.h) and its bytes, after
// checking that the artifact keeps those default handlers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack::harness {

struct ServedModel {
  std::string source;  // as given: a path or an s3:// URL
  std::string member;  // the TorchScript member
  std::string bytes;
};

// Opens `source` (s3:// with the AWS CLI's credentials), picks the model member (or takes
// `model_member`) and reads it. Error::bad_input when the artifact's handler module
// (SAGEMAKER_PROGRAM, else code/inference.py) defines any handler: the harness runs only
// the container's defaults, and the user's Python needs the toolkit.
Result<ServedModel> read_served_model(const std::string& source,
                                      const std::optional<std::string>& model_member,
                                      const std::string& program, std::uint64_t max_model_bytes,
                                      const CancelToken& cancel);

}  // namespace smpack::harness
