#include "serving/nd_array.h"

#include <cstring>

namespace smpack::harness {

std::size_t item_bytes(ElementType type) {
  switch (type) {
    case ElementType::boolean:
    case ElementType::uint8:
    case ElementType::int8:
      return 1;
    case ElementType::int16:
    case ElementType::float16:
    case ElementType::bfloat16:
      return 2;
    case ElementType::int32:
    case ElementType::float32:
      return 4;
    case ElementType::int64:
    case ElementType::float64:
      return 8;
  }
  return 1;
}

NdArray float32_array(std::vector<std::int64_t> shape, const std::vector<float>& values) {
  NdArray array{ElementType::float32, std::move(shape), {}, false};
  array.data.resize(values.size() * sizeof(float));
  std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

}  // namespace smpack::harness
