#include "smpack/weight_report.h"

namespace smpack {

std::string_view name_of(WeightFormat format) {
  switch (format) {
    case WeightFormat::safetensors:
      return "safetensors";
    case WeightFormat::pytorch_zip:
      return "pytorch_zip";
    case WeightFormat::torchscript_zip:
      return "torchscript_zip";
    case WeightFormat::pytorch_legacy:
      return "pytorch_legacy";
    case WeightFormat::pickle:
      return "pickle";
    case WeightFormat::numpy_npy:
      return "numpy_npy";
    case WeightFormat::numpy_npz:
      return "numpy_npz";
    case WeightFormat::keras_zip:
      return "keras_zip";
    case WeightFormat::hdf5:
      return "hdf5";
    case WeightFormat::other_zip:
      return "other_zip";
    case WeightFormat::unknown:
      return "unknown";
  }
  return "unknown";
}

std::string_view describe(WeightFormat format) {
  switch (format) {
    case WeightFormat::safetensors:
      return "safetensors file";
    case WeightFormat::pytorch_zip:
      return "PyTorch zip checkpoint";
    case WeightFormat::torchscript_zip:
      return "TorchScript archive";
    case WeightFormat::pytorch_legacy:
      return "legacy PyTorch checkpoint (torch.save before 1.6)";
    case WeightFormat::pickle:
      return "pickle";
    case WeightFormat::numpy_npy:
      return "NumPy .npy array";
    case WeightFormat::numpy_npz:
      return "NumPy .npz archive";
    case WeightFormat::keras_zip:
      return "Keras archive (.keras)";
    case WeightFormat::hdf5:
      return "HDF5 file";
    case WeightFormat::other_zip:
      return "zip archive";
    case WeightFormat::unknown:
      return "file of unknown format";
  }
  return "file of unknown format";
}

std::string_view name_of(PickleVerdict verdict) {
  switch (verdict) {
    case PickleVerdict::weights_only:
      return "weights_only";
    case PickleVerdict::unknown_code:
      return "unknown_code";
    case PickleVerdict::dangerous:
      return "dangerous";
  }
  return "dangerous";
}

std::string_view name_of(WeightProblemKind kind) {
  switch (kind) {
    case WeightProblemKind::not_available:
      return "not_available";
    case WeightProblemKind::cap_exceeded:
      return "cap_exceeded";
    case WeightProblemKind::truncated:
      return "truncated";
    case WeightProblemKind::pickle_malformed:
      return "pickle_malformed";
    case WeightProblemKind::pickle_dangerous_global:
      return "pickle_dangerous_global";
    case WeightProblemKind::pickle_unknown_global:
      return "pickle_unknown_global";
    case WeightProblemKind::pickle_dynamic_global:
      return "pickle_dynamic_global";
    case WeightProblemKind::pickle_unsafe_opcode:
      return "pickle_unsafe_opcode";
    case WeightProblemKind::torchscript_code:
      return "torchscript_code";
    case WeightProblemKind::zip_malformed:
      return "zip_malformed";
    case WeightProblemKind::zip_name_mismatch:
      return "zip_name_mismatch";
    case WeightProblemKind::zip_header_mismatch:
      return "zip_header_mismatch";
    case WeightProblemKind::zip_duplicate_name:
      return "zip_duplicate_name";
    case WeightProblemKind::zip_overlap:
      return "zip_overlap";
    case WeightProblemKind::zip_flags:
      return "zip_flags";
    case WeightProblemKind::zip_crc_mismatch:
      return "zip_crc_mismatch";
    case WeightProblemKind::zip_unsupported:
      return "zip_unsupported";
    case WeightProblemKind::checkpoint_layout:
      return "checkpoint_layout";
    case WeightProblemKind::safetensors_invalid:
      return "safetensors_invalid";
    case WeightProblemKind::safetensors_strict:
      return "safetensors_strict";
    case WeightProblemKind::numpy_malformed:
      return "numpy_malformed";
    case WeightProblemKind::unrecognised_format:
      return "unrecognised_format";
    case WeightProblemKind::pickle_not_judged:
      return "pickle_not_judged";
    case WeightProblemKind::keras_lambda:
      return "keras_lambda";
    case WeightProblemKind::not_analysed:
      return "not_analysed";
  }
  return "unknown";
}

PickleVerdict worse(PickleVerdict a, PickleVerdict b) {
  return static_cast<int>(a) >= static_cast<int>(b) ? a : b;
}

bool is_defect(WeightProblemKind kind) {
  switch (kind) {
    case WeightProblemKind::not_available:
    case WeightProblemKind::cap_exceeded:
    case WeightProblemKind::pickle_dangerous_global:
    case WeightProblemKind::pickle_unknown_global:
    case WeightProblemKind::pickle_dynamic_global:
    case WeightProblemKind::pickle_unsafe_opcode:
    case WeightProblemKind::torchscript_code:
    case WeightProblemKind::pickle_not_judged:
    case WeightProblemKind::keras_lambda:
    case WeightProblemKind::not_analysed:
      return false;
    case WeightProblemKind::truncated:
    case WeightProblemKind::pickle_malformed:
    case WeightProblemKind::zip_malformed:
    case WeightProblemKind::zip_name_mismatch:
    case WeightProblemKind::zip_header_mismatch:
    case WeightProblemKind::zip_duplicate_name:
    case WeightProblemKind::zip_overlap:
    case WeightProblemKind::zip_flags:
    case WeightProblemKind::zip_crc_mismatch:
    case WeightProblemKind::zip_unsupported:
    case WeightProblemKind::checkpoint_layout:
    case WeightProblemKind::safetensors_invalid:
    case WeightProblemKind::safetensors_strict:
    case WeightProblemKind::numpy_malformed:
    case WeightProblemKind::unrecognised_format:
      break;
  }
  return true;
}

}  // namespace smpack
