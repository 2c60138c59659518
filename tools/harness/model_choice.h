// Which member of an artifact holds the model, chosen as the PyTorch serving container's
// default model_fn does: `model.pt` at the root, else the only `.pt`/`.pth` file at the
// root (sagemaker-pytorch-inference-toolkit, default_pytorch_inference_handler.py).
#pragma once

#include <string>

#include "smpack/model_tree.h"
#include "smpack/result.h"

namespace smpack::harness {

// The normalised path of the model member. Error::bad_input saying what the container
// would have said when there is no candidate or more than one.
Result<std::string> default_model_member(const ModelTree& tree);

}  // namespace smpack::harness
