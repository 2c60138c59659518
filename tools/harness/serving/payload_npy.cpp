// np.load(body) and torch.from_numpy for requests; np.save(prediction.tolist()) for
// responses. The toolkit loads with allow_pickle=True, which runs the pickle of an object
// array: that is code execution for any caller, so an object array is refused (400).
#include <cstring>
#include <limits>
#include <map>
#include <span>

#include "serving/payload_codecs.h"
#include "smpack/npy_header.h"

namespace smpack::harness {
namespace {

constexpr std::size_t kArrayAlign = 64;           // numpy.lib.format.ARRAY_ALIGN
constexpr std::size_t kGrowthAxisMaxDigits = 21;  // numpy.lib.format.GROWTH_AXIS_MAX_DIGITS
constexpr std::size_t kMaxDimensions = 32;        // NPY_MAXDIMS

// np.dtype(descr) for the types torch.from_numpy takes: the byte order is optional, any
// order reads one-byte types, and type codes and names spell the same types. A multi-byte
// type in '>' order is refused by from_numpy ("byte order different from the native").
std::optional<ElementType> from_numpy_type(std::string_view descr) {
  static const std::map<std::string_view, ElementType, std::less<>> kTypes = {
      {"b1", ElementType::boolean},      {"?", ElementType::boolean},
      {"bool", ElementType::boolean},    {"u1", ElementType::uint8},
      {"B", ElementType::uint8},         {"uint8", ElementType::uint8},
      {"i1", ElementType::int8},         {"b", ElementType::int8},
      {"int8", ElementType::int8},       {"i2", ElementType::int16},
      {"h", ElementType::int16},         {"int16", ElementType::int16},
      {"i4", ElementType::int32},        {"i", ElementType::int32},
      {"int32", ElementType::int32},     {"i8", ElementType::int64},
      {"l", ElementType::int64},         {"q", ElementType::int64},
      {"int64", ElementType::int64},     {"f2", ElementType::float16},
      {"e", ElementType::float16},       {"float16", ElementType::float16},
      {"f4", ElementType::float32},      {"f", ElementType::float32},
      {"float32", ElementType::float32}, {"f8", ElementType::float64},
      {"d", ElementType::float64},       {"float64", ElementType::float64}};
  char order = '=';
  if (!descr.empty() && std::string_view("<>|=").find(descr.front()) != std::string_view::npos) {
    order = descr.front();
    descr.remove_prefix(1);
  }
  const auto found = kTypes.find(descr);
  if (found == kTypes.end()) return std::nullopt;
  if (order == '>' && item_bytes(found->second) > 1) return std::nullopt;
  return found->second;
}

std::string numpy_descr(ElementType type) {
  switch (type) {
    case ElementType::boolean:
      return "|b1";
    case ElementType::int64:
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
      header->structured ? std::optional<ElementType>() : from_numpy_type(header->descr);
  if (!type) {
    return PayloadError{500, "torch.from_numpy cannot convert an NPY array of dtype '" +
                                 (header->structured ? "structured" : header->descr) +
                                 "'; the only supported types are: float64, float32, float16, "
                                 "int64, int32, int16, int8, uint8, and bool"};
  }
  if (header->shape.size() > kMaxDimensions) {
    return PayloadError{500, "maximum supported dimension for an ndarray is 32, found " +
                                 std::to_string(header->shape.size())};
  }
  // np.load checks the size without the zeros: (0, 2**62, 4) is "too big" all the same.
  std::uint64_t nonzero_bytes = item_bytes(*type);
  for (const auto dim : header->shape) {
    if (dim == 0) continue;
    if (nonzero_bytes > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max()) / dim)
      return PayloadError{500,
                          "array is too big; `arr.size * arr.dtype.itemsize` is larger "
                          "than the maximum possible size"};
    nonzero_bytes *= dim;
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
