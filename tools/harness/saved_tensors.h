// Model and tensor files held in memory: what kind of file a member is, and the tensors
// of a torch.save file, materialised on the CPU through LibTorch's zip reader.
#pragma once

#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/script.h>

#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "smpack/result.h"

namespace smpack::harness {

// Lets LibTorch's readers (torch::jit::load, PyTorchStreamReader) read bytes already in
// memory, so a model goes from the archive to the device without a temporary file.
// `bytes` must outlive the adapter.
class MemoryReadAdapter final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit MemoryReadAdapter(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* what = "") const override;

 private:
  const std::string& bytes_;
};

enum class SavedFileKind {
  torchscript,  // torch.jit.save: a zip with constants.pkl and code/
  torch_save,   // torch.save: a zip with data.pkl and data/ only
};

// Error::bad_input saying what the bytes are instead: not a zip (including torch.save's
// legacy pre-1.6 format), or a zip of neither kind.
Result<SavedFileKind> classify_saved_file(const std::string& bytes);

struct SavedTensors {
  std::vector<std::pair<std::string, at::Tensor>> tensors;  // name, CPU tensor
  std::vector<std::string> python_classes;                  // globals outside torch's allowlist
  std::vector<std::string> dangerous_globals;               // globals known to run code or commands
};

// Every tensor of a torch.save file with its name. Error::bad_input for a corrupt zip or
// pickle, or a tensor that reaches past its storage record.
Result<SavedTensors> load_saved_tensors(const std::string& bytes);

// A torch.save of a tensor or a list/tuple of tensors, in order (inputs, expected outputs).
Result<std::vector<at::Tensor>> load_tensor_list(const std::string& bytes);

}  // namespace smpack::harness
