// The arrays that cross the endpoint's codecs: what a request body decodes to before it
// becomes a tensor, and what a prediction is before it is encoded. Torch-free, so the
// codecs build and test without LibTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace smpack::harness {

// The element types torch.from_numpy accepts (torch 1.13), which NPY bodies keep.
enum class ArrayType { boolean, uint8, int8, int16, int32, int64, float16, float32, float64 };

std::size_t item_bytes(ArrayType type);
std::string numpy_name(ArrayType type);  // "float32", "bool", ...

struct NdArray {
  ArrayType type = ArrayType::float32;
  std::vector<std::int64_t> shape;  // empty: a 0-d array (one element)
  std::vector<std::byte> data;      // little-endian elements
  bool fortran_order = false;       // data in column-major order (an NPY body's flag)

  std::size_t element_count() const;
  template <typename T>
  const T* elements() const {
    return reinterpret_cast<const T*>(data.data());
  }
};

// A float32 array of `values` in C order.
NdArray float32_array(std::vector<std::int64_t> shape, const std::vector<float>& values);

}  // namespace smpack::harness
