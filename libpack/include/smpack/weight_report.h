// What smpack found in one weight file: its format, whether loading it runs code,
// its tensors, and what is wrong with it. Plain data shared by the weight readers
// (pickle_analyzer.h, zip_reader.h, safetensors.h, torch_checkpoint.h,
// numpy_file.h) and weight_scan.h, which fills a WeightFileReport per file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smpack {

enum class WeightFormat {
  safetensors,
  pytorch_zip,      // torch.save since 1.6: a zip with <prefix>/data.pkl
  torchscript_zip,  // torch.jit.save: the same zip plus constants.pkl and code/
  pytorch_legacy,   // torch.save before 1.6: magic-number pickle stream, or the old tar
  pickle,           // a bare pickle (.pkl, .joblib, a .pt that is not a zip, ...)
  numpy_npy,
  numpy_npz,
  keras_zip,  // Keras v3 .keras: config.json (layers, maybe Lambda code) and weights
  hdf5,       // HDF5 (.h5, Keras 2 and others): not analysed
  other_zip,
  unknown,
};

// What unpickling would do, judged from the globals a pickle imports.
enum class PickleVerdict {
  weights_only,  // only what torch.load(weights_only=True) accepts
  unknown_code,  // imports something outside that allowlist
  dangerous,     // imports something known to execute code or commands
};

// Stable identifiers of what can be wrong; JSON and tests use name_of().
enum class WeightProblemKind {
  not_available,     // a byte range the source does not hold (streamed member)
  cap_exceeded,      // a limit on opcodes, stack, memo, entries or bytes was hit
  truncated,         // the content ends before its own structure says it does
  pickle_malformed,  // bad opcode, stack underflow, missing memo entry, ...
  pickle_dangerous_global,
  pickle_unknown_global,
  pickle_dynamic_global,  // STACK_GLOBAL whose name is computed while loading
  pickle_unsafe_opcode,   // an opcode outside torch's weights_only set
  torchscript_code,       // TorchScript: loads with torch.jit.load and runs its code
  zip_malformed,
  zip_name_mismatch,    // local header and central directory disagree on the name
  zip_header_mismatch,  // ... on method, flags, sizes or CRC
  zip_duplicate_name,   // also when equal after case folding
  zip_overlap,          // two members share bytes
  zip_flags,            // encryption or other unusual general-purpose bits
  zip_crc_mismatch,
  zip_unsupported,      // compression method or feature smpack cannot read
  checkpoint_layout,    // PyTorch record layout: prefix, data.pkl, data/<key>, ...
  safetensors_invalid,  // the safetensors reference rejects the file
  safetensors_strict,   // the reference accepts it; smpack does not
  numpy_malformed,
  unrecognised_format,  // a pickle-loader name (.pt, .bin, ...) on content of no known format
  pickle_not_judged,    // a cap, the budget or missing bytes stopped a pickle before STOP
  keras_lambda,         // a Keras Lambda layer: marshalled bytecode run on load
  not_analysed,         // a format smpack does not parse (HDF5)
};

std::string_view name_of(WeightFormat format);  // the JSON token: "pytorch_legacy"
// For people: "legacy PyTorch checkpoint (torch.save before 1.6)".
std::string_view describe(WeightFormat format);
std::string_view name_of(PickleVerdict verdict);
std::string_view name_of(WeightProblemKind kind);
// A defect of the file itself (broken, inconsistent or hiding bytes), as opposed to what
// a valid file says about its contents: the globals a pickle imports (judged by its
// verdict), TorchScript's own code, or a part left unread (WeightFileReport::complete).
bool is_defect(WeightProblemKind kind);

struct TensorInfo {
  std::string name;   // "layer.0.weight"; the array's member for numpy
  std::string dtype;  // torch-style lower case: "float32", "bfloat16", ...
  std::vector<std::uint64_t> shape;
  std::uint64_t bytes = 0;  // product(shape) x element size (saturating)
};

struct WeightProblem {
  WeightProblemKind kind;
  std::string message;  // names the member and the record or offset
};

struct WeightFileReport {
  std::string member;
  WeightFormat format = WeightFormat::unknown;
  std::optional<PickleVerdict> verdict;  // set when the file holds a pickle
  std::vector<std::string> globals;      // "module.name" as seen, first occurrence order
  std::vector<TensorInfo> tensors;
  std::uint64_t tensor_bytes = 0;  // sum of tensors[].bytes (saturating)
  std::vector<WeightProblem> problems;
  bool complete = true;  // false when bytes were not available or a cap was hit
};

// The worse of two verdicts (dangerous > unknown_code > weights_only).
PickleVerdict worse(PickleVerdict a, PickleVerdict b);

}  // namespace smpack
