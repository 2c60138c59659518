#include "saved_tensors.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <map>

#include "torch_save_pickle.h"
#include "torch_types.h"

namespace smpack::harness {
namespace {

using caffe2::serialize::PyTorchStreamReader;

// A torch.save data.pkl holds names and shapes only; beyond this it is not one.
constexpr std::uint64_t kMaxPickleBytes = 256ull << 20;

std::unique_ptr<PyTorchStreamReader> open_zip(const std::string& bytes) {
  return std::make_unique<PyTorchStreamReader>(std::make_shared<MemoryReadAdapter>(bytes));
}

std::string record_text(PyTorchStreamReader& reader, const std::string& name) {
  auto [data, size] = reader.getRecord(name);
  return std::string(static_cast<const char*>(data.get()), size);
}

// Elements a strided view reaches: offset + Σ (size_i - 1) · stride_i + 1, or 0 for an
// empty tensor. False when that overflows 64 bits.
bool elements_reached(const TensorReference& tensor, std::uint64_t& reached) {
  std::int64_t last = tensor.storage_offset;
  for (std::size_t i = 0; i < tensor.sizes.size(); ++i) {
    if (tensor.sizes[i] == 0) {
      reached = 0;
      return true;
    }
    std::int64_t span = 0;
    if (__builtin_mul_overflow(tensor.sizes[i] - 1, tensor.strides[i], &span) ||
        __builtin_add_overflow(last, span, &last) || last == INT64_MAX) {
      return false;
    }
  }
  reached = static_cast<std::uint64_t>(last) + 1;
  return true;
}

// One tensor per storage record, read once and shared by the views on it.
class StorageCache {
 public:
  explicit StorageCache(PyTorchStreamReader& reader) : reader_(reader) {}

  Result<at::Tensor> view(const TensorReference& reference) {
    const auto record = "data/" + reference.storage_key;
    auto found = storages_.find(record);
    if (found == storages_.end()) {
      if (!reader_.hasRecord(record)) return Error::bad_input("no storage record " + record);
      auto [data, size] = reader_.getRecord(record);
      auto storage = at::empty({static_cast<std::int64_t>(size / reference.element_size)},
                               at::TensorOptions().dtype(scalar_type(reference.type)));
      std::memcpy(storage.data_ptr(), data.get(), storage.numel() * reference.element_size);
      found = storages_.emplace(record, storage).first;
    }
    const auto& storage = found->second;
    if (storage.scalar_type() != scalar_type(reference.type)) {
      return Error::bad_input(record + " is used with two element types");
    }
    std::uint64_t reached = 0;
    if (!elements_reached(reference, reached) ||
        reached > static_cast<std::uint64_t>(storage.numel())) {
      return Error::bad_input("a tensor reaches past the end of " + record);
    }
    return storage.as_strided(reference.sizes, reference.strides, reference.storage_offset);
  }

 private:
  PyTorchStreamReader& reader_;
  std::map<std::string, at::Tensor> storages_;
};

struct OpenedSave {
  std::unique_ptr<PyTorchStreamReader> reader;
  PickledGraph graph;
};

Result<OpenedSave> open_torch_save(const std::string& bytes) {
  OpenedSave opened;
  opened.reader = open_zip(bytes);
  if (!opened.reader->hasRecord("data.pkl"))
    return Error::bad_input("no data.pkl: not a torch.save file");
  const auto pickle = record_text(*opened.reader, "data.pkl");
  if (pickle.size() > kMaxPickleBytes) return Error::bad_input("data.pkl is larger than 256 MiB");
  auto graph = read_torch_save_pickle(pickle);
  if (!graph) return std::move(graph).error();
  opened.graph = std::move(*graph);
  return opened;
}

// Torch's zip reader reports damage by throwing; make that an Error like any other.
template <class Function>
auto catching_torch(Function&& function) -> decltype(function()) {
  try {
    return function();
  } catch (const std::bad_alloc&) {
    return Error::bad_input("a record claims more memory than can be allocated");
  } catch (const std::exception& error) {
    return Error::bad_input(torch_message(error));
  }
}

}  // namespace

size_t MemoryReadAdapter::read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const {
  if (pos >= bytes_.size()) return 0;
  const auto count = std::min<uint64_t>(n, bytes_.size() - pos);
  std::memcpy(buf, bytes_.data() + pos, count);
  return count;
}

Result<SavedFileKind> classify_saved_file(const std::string& bytes) {
  if (!bytes.starts_with("PK\x03\x04")) {
    if (bytes.starts_with("\x80\x02\x8a\x0a")) {
      return Error::bad_input(
          "torch.save's legacy (pre-1.6, non-zip) format; re-save it with a current torch.save");
    }
    return Error::bad_input("not a zip file: neither TorchScript (torch.jit.save) nor torch.save");
  }
  return catching_torch([&]() -> Result<SavedFileKind> {
    const auto reader = open_zip(bytes);
    if (reader->hasRecord("constants.pkl")) return SavedFileKind::torchscript;
    if (reader->hasRecord("data.pkl")) return SavedFileKind::torch_save;
    return Error::bad_input(
        "a zip with neither constants.pkl (TorchScript) nor data.pkl (torch.save)");
  });
}

Result<SavedTensors> load_saved_tensors(const std::string& bytes) {
  return catching_torch([&]() -> Result<SavedTensors> {
    auto opened = open_torch_save(bytes);
    if (!opened) return std::move(opened).error();
    const auto found = inventory(opened->graph.root);
    StorageCache storages(*opened->reader);
    SavedTensors saved;
    saved.python_classes = found.python_classes;
    for (const auto& [name, reference] : found.tensors) {
      auto tensor = storages.view(reference);
      if (!tensor) return std::move(tensor).error().with_context(name);
      saved.tensors.emplace_back(name, std::move(*tensor));
    }
    return saved;
  });
}

Result<std::vector<at::Tensor>> load_tensor_list(const std::string& bytes) {
  return catching_torch([&]() -> Result<std::vector<at::Tensor>> {
    auto opened = open_torch_save(bytes);
    if (!opened) return std::move(opened).error();
    auto references = tensor_sequence(opened->graph.root);
    if (!references) return std::move(references).error();
    StorageCache storages(*opened->reader);
    std::vector<at::Tensor> tensors;
    for (std::size_t i = 0; i < references->size(); ++i) {
      auto tensor = storages.view((*references)[i]);
      if (!tensor) return std::move(tensor).error().with_context("tensor " + std::to_string(i));
      tensors.push_back(tensor->contiguous());
    }
    return tensors;
  });
}

}  // namespace smpack::harness
