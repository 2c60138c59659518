// The object graph inside a file written by Python's torch.save (zip format): the
// `data.pkl` pickle, read by a bounded interpreter of the opcodes torch.save emits
// (protocol 2, and 4 where asked). No Python object is ever built or called: globals
// become names, tensors become references into the zip's `data/<key>` records.
//
// Why not LibTorch's own unpickler: up to 1.13 it reads `collections.OrderedDict` as
// None, so a state dict (an OrderedDict) comes back empty.
//
// Grammar understood (anything else is refused with its offset):
//   tensor   := REDUCE(GLOBAL torch._utils._rebuild_tensor_v2,
//                      (PERSID('storage', GLOBAL torch.<Type>Storage, key, location, numel),
//                       offset, size-tuple, stride-tuple, requires_grad, hooks[, metadata]))
//             | REDUCE(GLOBAL torch._utils._rebuild_parameter[_with_state], (tensor, ...))
//   ordered  := REDUCE(GLOBAL collections.OrderedDict, ())  → a dict
//   other    := REDUCE/NEWOBJ of any other global → an opaque object (its name kept)
//   plus None, bool, int, float, str, bytes, tuple, list, dict, memo get/put, BUILD.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "input_spec.h"
#include "smpack/result.h"

namespace smpack::harness {

struct TensorReference {
  std::string storage_key;  // the zip record is "data/<storage_key>"
  ElementType type = ElementType::float32;
  std::uint64_t element_size = 4;
  std::int64_t storage_offset = 0;  // in elements
  std::vector<std::int64_t> sizes;
  std::vector<std::int64_t> strides;
};

struct PickledValue;
using PickledPtr = PickledValue*;  // owned by the PickledGraph

struct PickledValue {
  enum class Kind {
    none,
    boolean,
    integer,
    floating,
    text,
    bytes,
    tuple,
    list,
    dict,
    global,
    storage,
    tensor,
    object
  };
  Kind kind = Kind::none;
  std::int64_t integer = 0;  // also the boolean
  double floating = 0;
  std::string text;               // text, bytes, or "module.name" for global/object
  std::vector<PickledPtr> items;  // tuple, list; object: args, state
  std::vector<std::pair<PickledPtr, PickledPtr>> entries;  // dict, in insertion order
  TensorReference tensor;                                  // storage (partly), tensor
};

struct PickleLimits {
  std::uint64_t max_stack = 1 << 20;
  std::uint64_t max_memo = 1 << 20;
  std::uint64_t max_container_items = 1 << 24;
  std::uint64_t max_dimensions = 64;
};

// Every value the pickle made, owned flat so that deep nesting or memo cycles can neither
// recurse on destruction nor leak.
struct PickledGraph {
  std::vector<std::unique_ptr<PickledValue>> values;
  PickledPtr root = nullptr;
};

// Error::bad_input naming the opcode offset for a truncated, malformed or unsupported pickle.
Result<PickledGraph> read_torch_save_pickle(std::string_view pickle,
                                            const PickleLimits& limits = {});

struct NamedTensorReference {
  std::string name;  // dotted path: "0.weight", "state_dict.fc.bias", "[1]" for list items
  TensorReference tensor;
};

struct PickleInventory {
  std::vector<NamedTensorReference> tensors;  // in pickle order; shared storages repeat
  std::vector<std::string> python_classes;    // non-torch globals an unpickler must import
};

// Every tensor reachable from `root`, named by its path; each container visited once
// (the memo can make cycles and shared sub-objects), nesting followed 128 levels deep.
PickleInventory inventory(PickledPtr root);

// The tensors of a tensor, or of a list/tuple of tensors, in order. Error::bad_input
// when `root` is anything else.
Result<std::vector<TensorReference>> tensor_sequence(PickledPtr root);

}  // namespace smpack::harness
