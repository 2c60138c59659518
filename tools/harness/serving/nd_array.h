// The arrays that cross the endpoint's codecs: what a request body decodes to before it
// becomes a tensor, and what a prediction is before it is encoded. Torch-free, so the
// codecs build and test without LibTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "input_spec.h"

namespace smpack::harness {

// Elements are the harness's ElementType (input_spec.h); NPY bodies keep the ones
// torch.from_numpy accepts (torch 1.13), which are all of them but bfloat16.
std::size_t item_bytes(ElementType type);

struct NdArray {
  ElementType type = ElementType::float32;
  std::vector<std::int64_t> shape;  // empty: a 0-d array (one element)
  std::vector<std::byte> data;      // little-endian elements
  bool fortran_order = false;       // data in column-major order (an NPY body's flag)

  template <typename T>
  const T* elements() const {
    return reinterpret_cast<const T*>(data.data());
  }
};

// A float32 array of `values` in C order.
NdArray float32_array(std::vector<std::int64_t> shape, const std::vector<float>& values);

}  // namespace smpack::harness
