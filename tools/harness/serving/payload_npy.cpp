// np.load(body) and torch.from_numpy for requests; np.save(prediction.tolist()) for
// responses. The toolkit loads with allow_pickle=True, which runs the pickle of an object
// array: that is code execution for any caller, so an object array is refused (400).
#include <cstring>
#include <span>

#include "serving/payload_codecs.h"
#include "smpack/npy_header.h"

namespace smpack::harness {
namespace {

constexpr std::size_t kArrayAlign = 64;           // numpy.lib.format.ARRAY_ALIGN
constexpr std::size_t kGrowthAxisMaxDigits = 21;  // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS

std::optional<ArrayType> from_numpy_type(std::string_view descr) {
  // '|' (no order) and '<' / '=' (this little-endian machine's order) read as they are;
  // from_numpy refuses '>' ("byte order different from the native byte order").
  if (descr.size() < 2 || std::string_view("<|=").find(descr.front()) == std::string_view::npos)
    return std::nullopt;
  const auto type = descr.substr(1);
  if (type == "b1") return ArrayType::boolean;
  if (type == "u1") return ArrayType::uint8;
  if (type == "i1") return ArrayType::int8;
  if (type == "i2") return ArrayType::int16;
  if (type == "i4") return ArrayType::int32;
  if (type == "i8") return ArrayType::int64;
  if (type == "f2") return ArrayType::float16;
  if (type == "f4") return ArrayType::float32;
  if (type == "f8") return ArrayType::float64;
  return std::nullopt;
}

std::string numpy_descr(ArrayType type) {
  switch (type) {
    case ArrayType::boolean:
      return "|b1";
    case ArrayType::int64:
      return "<i8";
    default:
      return "<f8";
  }
}

// repr() of the shape tuple: "()", "(3,)", "(2, 3)".
std::string shape_repr(const std::vector<std::int64_t>& shape) {
  std::string text = "(";
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i > 0) text += ", ";
    text += std::to_string(shape[i]);
  }
  return text + (shape.size() == 1 ? ",)" : ")");
}

}  // namespace

PayloadResult<NdArray> decode_npy(std::string_view body) {
  const std::span<const std::byte> bytes(reinterpret_cast<const std::byte*>(body.data()),
                                         body.size());
  auto header = parse_npy_header(bytes);
  if (!header) return PayloadError{500, "np.load of the request body: " + header.error().message};
  if (header->object) {
    return PayloadError{400, "the NPY body holds an object array (dtype " + header->dtype_name +
                                 "): loading it unpickles the body, which runs code; send a "
                                 "numeric array"};
  }
  const auto type =
      header->structured ? std::optional<ArrayType>() : from_numpy_type(header->descr);
  if (!type) {
    return PayloadError{500, "torch.from_numpy cannot convert an NPY array of dtype '" +
                                 (header->structured ? "structured" : header->descr) +
                                 "'; the only supported types are: float64, float32, float16, "
                                 "int64, int32, int16, int8, uint8, and bool"};
  }
  const auto count = npy_element_count(*header);
  const std::uint64_t available = bytes.size() - header->data_offset;
  if (!count || *count > available / item_bytes(*type)) {
    return PayloadError{500, "EOF: reading array data, expected " +
                                 (count ? std::to_string(*count * item_bytes(*type)) : "more") +
                                 " bytes got " + std::to_string(available)};
  }
  NdArray array;
  array.type = *type;
  for (const auto dim : header->shape) array.shape.push_back(static_cast<std::int64_t>(dim));
  array.fortran_order = header->fortran_order;
  const auto start = bytes.begin() + static_cast<std::ptrdiff_t>(header->data_offset);
  array.data.assign(start, start + static_cast<std::ptrdiff_t>(*count * item_bytes(*type)));
  return array;
}

std::string encode_npy(const NdArray& prediction) {
  // format.py _write_array_header: the dict, room for the first axis to grow, then
  // spaces and '\n' so that the data starts at a multiple of 64 (version 1.0).
  std::string dict = "{'descr': '" + numpy_descr(prediction.type) +
                     "', 'fortran_order': False, 'shape': " + shape_repr(prediction.shape) + ", }";
  if (!prediction.shape.empty()) {
    const auto first_axis = std::to_string(prediction.shape.front()).size();
    dict += std::string(kGrowthAxisMaxDigits - std::min(first_axis, kGrowthAxisMaxDigits), ' ');
  }
  // _wrap_header pads a whole 64 bytes when the header already ends on a boundary.
  const std::size_t unpadded = 10 + dict.size() + 1;
  dict += std::string(kArrayAlign - unpadded % kArrayAlign, ' ') + "\n";
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  out += dict;
  out.append(reinterpret_cast<const char*>(prediction.data.data()), prediction.data.size());
  return out;
}

}  // namespace smpack::harness
