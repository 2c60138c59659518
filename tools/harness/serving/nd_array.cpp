#include "serving/nd_array.h"

#include <cstring>
#include <functional>
#include <numeric>

namespace smpack::harness {

std::size_t item_bytes(ArrayType type) {
  switch (type) {
    case ArrayType::boolean:
    case ArrayType::uint8:
    case ArrayType::int8:
      return 1;
    case ArrayType::int16:
    case ArrayType::float16:
      return 2;
    case ArrayType::int32:
    case ArrayType::float32:
      return 4;
    case ArrayType::int64:
    case ArrayType::float64:
      return 8;
  }
  return 1;
}

std::string numpy_name(ArrayType type) {
  switch (type) {
    case ArrayType::boolean:
      return "bool";
    case ArrayType::uint8:
      return "uint8";
    case ArrayType::int8:
      return "int8";
    case ArrayType::int16:
      return "int16";
    case ArrayType::int32:
      return "int32";
    case ArrayType::int64:
      return "int64";
    case ArrayType::float16:
      return "float16";
    case ArrayType::float32:
      return "float32";
    case ArrayType::float64:
      return "float64";
  }
  return "unknown";
}

std::size_t NdArray::element_count() const {
  return std::accumulate(
      shape.begin(), shape.end(), std::size_t{1},
      [](std::size_t count, std::int64_t dim) { return count * static_cast<std::size_t>(dim); });
}

NdArray float32_array(std::vector<std::int64_t> shape, const std::vector<float>& values) {
  NdArray array{ArrayType::float32, std::move(shape), {}, false};
  array.data.resize(values.size() * sizeof(float));
  std::memcpy(array.data.data(), values.data(), array.data.size());
  return array;
}

}  // namespace smpack::harness
