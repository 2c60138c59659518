#include "saved_tensors.h"

#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <span>

#include "input_spec.h"
#include "smpack/pickle_analyzer.h"
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

// A tensor as the pickle describes it: name, element type, and its view of a storage.
struct StoredTensor {
  const TensorInfo& info;
  const PickleTensorLayout& layout;
};

// Elements a strided view reaches: offset + sum((size_i - 1) * stride_i) + 1, or 0 for an
// empty tensor. False when that overflows 64 bits or a stride is negative.
bool elements_reached(const std::vector<std::int64_t>& sizes,
                      const std::vector<std::int64_t>& strides, std::uint64_t offset,
                      std::uint64_t& reached) {
  if (offset > static_cast<std::uint64_t>(INT64_MAX)) return false;
  auto last = static_cast<std::int64_t>(offset);
  for (std::size_t i = 0; i < sizes.size(); ++i) {
    if (sizes[i] == 0) {
      reached = 0;
      return true;
    }
    std::int64_t span = 0;
    if (strides[i] < 0 || __builtin_mul_overflow(sizes[i] - 1, strides[i], &span) ||
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

  Result<at::Tensor> view(const StoredTensor& stored) {
    auto type = parse_element_type(stored.info.dtype);
    if (!type) return Error::bad_input("element type " + stored.info.dtype + " is not supported");
    const at::ScalarType scalar = scalar_type(*type);
    std::vector<std::int64_t> sizes;
    for (std::uint64_t dim : stored.info.shape) {
      if (dim > static_cast<std::uint64_t>(INT64_MAX)) return Error::bad_input("a size overflows");
      sizes.push_back(static_cast<std::int64_t>(dim));
    }
    if (stored.layout.strides.size() != sizes.size()) {
      return Error::bad_input("the pickle gives " + std::to_string(stored.layout.strides.size()) +
                              " strides for " + std::to_string(sizes.size()) + " dimensions");
    }
    const auto record = "data/" + stored.layout.storage_key;
    auto found = storages_.find(record);
    if (found == storages_.end()) {
      if (!reader_.hasRecord(record)) return Error::bad_input("no storage record " + record);
      auto [data, size] = reader_.getRecord(record);
      const auto element_size = static_cast<std::size_t>(c10::elementSize(scalar));
      auto storage = at::empty({static_cast<std::int64_t>(size / element_size)},
                               at::TensorOptions().dtype(scalar));
      std::memcpy(storage.data_ptr(), data.get(), storage.numel() * element_size);
      found = storages_.emplace(record, storage).first;
    }
    const auto& storage = found->second;
    if (storage.scalar_type() != scalar)
      return Error::bad_input(record + " is used with two element types");
    std::uint64_t reached = 0;
    if (!elements_reached(sizes, stored.layout.strides, stored.layout.storage_offset, reached) ||
        reached > static_cast<std::uint64_t>(storage.numel())) {
      return Error::bad_input("a tensor reaches past the end of " + record);
    }
    return storage.as_strided(sizes, stored.layout.strides,
                              static_cast<std::int64_t>(stored.layout.storage_offset));
  }

 private:
  PyTorchStreamReader& reader_;
  std::map<std::string, at::Tensor> storages_;
};

struct OpenedSave {
  std::unique_ptr<PyTorchStreamReader> reader;
  PickleAnalysis analysis;
};

// data.pkl through libpack's pickle analyser: it simulates the unpickler without running
// anything and lists each tensor with its storage view, so nothing Python is rebuilt.
Result<OpenedSave> open_torch_save(const std::string& bytes) {
  OpenedSave opened;
  opened.reader = open_zip(bytes);
  if (!opened.reader->hasRecord("data.pkl"))
    return Error::bad_input("no data.pkl: not a torch.save file");
  const auto pickle = record_text(*opened.reader, "data.pkl");
  if (pickle.size() > kMaxPickleBytes) return Error::bad_input("data.pkl is larger than 256 MiB");
  opened.analysis = analyze_pickle(std::as_bytes(std::span(pickle)));
  if (!opened.analysis.complete) {
    std::string why = "it could not be read to the end";
    for (const auto& problem : opened.analysis.problems) {
      if (problem.kind == WeightProblemKind::pickle_malformed ||
          problem.kind == WeightProblemKind::truncated ||
          problem.kind == WeightProblemKind::cap_exceeded) {
        why = problem.message;
        break;
      }
    }
    return Error::bad_input("data.pkl: " + why);
  }
  return opened;
}

// The globals ("module.name", split at the last dot) that classify_global judges `verdict`.
std::vector<std::string> globals_judged(const PickleAnalysis& analysis, PickleVerdict verdict) {
  std::vector<std::string> judged;
  for (const auto& global : analysis.globals) {
    const auto dot = global.rfind('.');
    if (dot == std::string::npos) continue;
    if (classify_global(std::string_view(global).substr(0, dot),
                        std::string_view(global).substr(dot + 1)) == verdict) {
      judged.push_back(global);
    }
  }
  return judged;
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
    if (bytes.starts_with("\x80")) {
      return Error::bad_input(
          "a bare pickle (pickle.dump), neither TorchScript (torch.jit.save) nor torch.save");
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
    const PickleAnalysis& analysis = opened->analysis;
    StorageCache storages(*opened->reader);
    SavedTensors saved;
    saved.python_classes = globals_judged(analysis, PickleVerdict::unknown_code);
    saved.dangerous_globals = globals_judged(analysis, PickleVerdict::dangerous);
    for (std::size_t i = 0; i < analysis.tensors.size(); ++i) {
      auto tensor = storages.view({analysis.tensors[i], analysis.layouts[i]});
      if (!tensor) return std::move(tensor).error().with_context(analysis.tensors[i].name);
      saved.tensors.emplace_back(analysis.tensors[i].name, std::move(*tensor));
    }
    return saved;
  });
}

Result<std::vector<at::Tensor>> load_tensor_list(const std::string& bytes) {
  return catching_torch([&]() -> Result<std::vector<at::Tensor>> {
    auto opened = open_torch_save(bytes);
    if (!opened) return std::move(opened).error();
    const PickleAnalysis& analysis = opened->analysis;
    // A tensor is named "(root)"; a list or tuple of tensors gives "0", "1", ... in order.
    const bool single = analysis.tensors.size() == 1 && analysis.tensors[0].name == "(root)";
    for (std::size_t i = 0; i < analysis.tensors.size() && !single; ++i) {
      if (analysis.tensors[i].name != std::to_string(i)) {
        return Error::bad_input("not a tensor or a list/tuple of tensors (found '" +
                                analysis.tensors[i].name + "')");
      }
    }
    if (analysis.tensors.empty()) return Error::bad_input("holds no tensor");
    for (const auto verdict : {PickleVerdict::dangerous, PickleVerdict::unknown_code}) {
      if (const auto globals = globals_judged(analysis, verdict); !globals.empty()) {
        return Error::bad_input("not a tensor or a list/tuple of tensors (it pickles " +
                                globals.front() + ")");
      }
    }
    StorageCache storages(*opened->reader);
    std::vector<at::Tensor> tensors;
    for (std::size_t i = 0; i < analysis.tensors.size(); ++i) {
      auto tensor = storages.view({analysis.tensors[i], analysis.layouts[i]});
      if (!tensor) return std::move(tensor).error().with_context("tensor " + std::to_string(i));
      tensors.push_back(tensor->contiguous());
    }
    return tensors;
  });
}

}  // namespace smpack::harness
