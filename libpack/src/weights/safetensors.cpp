#include "weights/safetensors.h"

#include <algorithm>
#include <array>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "util/le_bytes.h"

namespace smpack {
namespace {

struct SafetensorsDtype {
  std::string_view name;        // as the header spells it
  std::string_view torch_name;  // TensorInfo::dtype
  std::uint64_t bits = 0;
};

// The reference's Dtype (safetensors 0.8); sub-byte types must fill whole bytes.
constexpr std::array kDtypes = {
    SafetensorsDtype{"BOOL", "bool", 8},
    SafetensorsDtype{"U8", "uint8", 8},
    SafetensorsDtype{"I8", "int8", 8},
    SafetensorsDtype{"I16", "int16", 16},
    SafetensorsDtype{"U16", "uint16", 16},
    SafetensorsDtype{"F16", "float16", 16},
    SafetensorsDtype{"BF16", "bfloat16", 16},
    SafetensorsDtype{"I32", "int32", 32},
    SafetensorsDtype{"U32", "uint32", 32},
    SafetensorsDtype{"F32", "float32", 32},
    SafetensorsDtype{"F64", "float64", 64},
    SafetensorsDtype{"I64", "int64", 64},
    SafetensorsDtype{"U64", "uint64", 64},
    SafetensorsDtype{"C64", "complex64", 64},
    SafetensorsDtype{"F8_E5M2", "float8_e5m2", 8},
    SafetensorsDtype{"F8_E4M3", "float8_e4m3fn", 8},
    SafetensorsDtype{"F8_E8M0", "float8_e8m0fnu", 8},
    SafetensorsDtype{"F8_E4M3FNUZ", "float8_e4m3fnuz", 8},
    SafetensorsDtype{"F8_E5M2FNUZ", "float8_e5m2fnuz", 8},
    SafetensorsDtype{"F4", "float4_e2m1fn", 4},
    SafetensorsDtype{"F6_E2M3", "float6_e2m3fn", 6},
    SafetensorsDtype{"F6_E3M2", "float6_e3m2fn", 6},
};

const SafetensorsDtype* find_dtype(std::string_view name) {
  auto it = std::find_if(kDtypes.begin(), kDtypes.end(),
                         [&](const SafetensorsDtype& d) { return d.name == name; });
  return it == kDtypes.end() ? nullptr : &*it;
}

// serde_json's default recursion limit, which the reference inherits.
constexpr std::size_t kMaxJsonDepth = 128;

struct RawTensor {
  std::string name;
  // Present once the handler has seen the field; finish_tensor() insists on all three.
  std::string dtype;
  std::vector<std::uint64_t> shape;
  std::array<std::uint64_t, 2> offsets{};
};

// Reads the header JSON the way the reference's serde types do (so it rejects what
// they reject) and notes what they silently accept.
class HeaderHandler {
 public:
  using json = nlohmann::json;

  std::optional<std::string> invalid;  // first reason the reference would reject
  std::vector<std::string> strict;     // accepted by the reference, refused by smpack
  std::vector<RawTensor> tensors;      // last one wins on duplicate names, like a HashMap
  std::vector<std::pair<std::string, std::string>> metadata;

  bool null() { return scalar(Scalar::null, {}, 0); }
  bool boolean(bool) { return scalar(Scalar::other, {}, 0); }
  bool number_integer(json::number_integer_t) { return scalar(Scalar::negative, {}, 0); }
  bool number_unsigned(json::number_unsigned_t value) {
    return scalar(Scalar::unsigned_int, {}, value);
  }
  bool number_float(json::number_float_t, const std::string&) {
    return scalar(Scalar::floating, {}, 0);
  }
  bool string(std::string& value) { return scalar(Scalar::text, value, 0); }
  bool binary(json::binary_t&) { return scalar(Scalar::other, {}, 0); }

  bool start_object(std::size_t) {
    if (!enter()) return false;
    switch (context()) {
      case Context::none:
        contexts_.push_back(Context::root);
        return true;
      case Context::root_value:
        if (key_ == "__metadata__") {
          if (seen_metadata_) return reject("the field __metadata__ appears twice");
          seen_metadata_ = true;
          contexts_.back() = Context::metadata;
          return true;
        }
        contexts_.back() = Context::tensor;
        start_tensor();
        return true;
      case Context::skip:
        skip_depth_++;
        return true;
      default:
        return reject(std::string("expected ") + expected() + ", found an object");
    }
  }
  bool end_object() {
    depth_--;
    switch (context()) {
      case Context::skip:
        return leave_skip();
      case Context::tensor:
        contexts_.pop_back();
        return finish_tensor();
      case Context::metadata:
      case Context::root:
        contexts_.pop_back();
        return true;
      default:
        return reject("unbalanced object");
    }
  }
  bool start_array(std::size_t) {
    if (!enter()) return false;
    if (context() == Context::skip) {
      skip_depth_++;
      return true;
    }
    if (context() == Context::field_value && (field_ == "shape" || field_ == "data_offsets")) {
      contexts_.back() = Context::numbers;
      numbers_.clear();
      return true;
    }
    return reject(std::string("expected ") + expected() + ", found an array");
  }
  bool end_array() {
    depth_--;
    if (context() == Context::skip) return leave_skip();
    if (context() != Context::numbers) return reject("unbalanced array");
    contexts_.pop_back();
    RawTensor& tensor = current_tensor_;
    if (field_ == "shape") {
      tensor.shape = numbers_;
      return true;
    }
    if (numbers_.size() != 2) {
      return reject("tensor '" + tensor.name + "': data_offsets has " +
                    std::to_string(numbers_.size()) + " elements, not 2");
    }
    tensor.offsets = {numbers_[0], numbers_[1]};
    return true;
  }
  bool key(std::string& value) {
    switch (context()) {
      case Context::root:
        key_ = value;
        contexts_.push_back(Context::root_value);
        return true;
      case Context::metadata:
        key_ = value;
        contexts_.push_back(Context::metadata_value);
        return true;
      case Context::tensor:
        return tensor_field(value);
      case Context::skip:
        return true;
      default:
        return reject("unexpected key");
    }
  }
  bool reject(std::string reason) {
    if (!invalid) invalid = std::move(reason);
    return false;
  }
  bool parse_error(std::size_t position, const std::string&, const nlohmann::detail::exception& e) {
    return reject("invalid JSON at byte " + std::to_string(position) +
                  " of the header: " + e.what());
  }

 private:
  enum class Context {
    none,
    root,
    root_value,  // the value after a top-level key
    metadata,
    metadata_value,
    tensor,
    field_value,  // the value of dtype/shape/data_offsets
    numbers,      // inside shape or data_offsets
    skip,         // an unknown field's value, ignored like serde does
  };
  enum class Scalar { null, negative, unsigned_int, floating, text, other };

  Context context() const { return contexts_.empty() ? Context::none : contexts_.back(); }
  const char* expected() const {
    switch (context()) {
      case Context::none:
        return "a JSON object";
      case Context::root_value:
        return key_ == "__metadata__" ? "an object of strings" : "a tensor object";
      case Context::metadata_value:
        return "a string";
      case Context::field_value:
        return field_ == "dtype" ? "a dtype string" : "an array of integers";
      case Context::numbers:
        return "a non-negative integer";
      default:
        return "something else";
    }
  }
  bool enter() {
    if (++depth_ > kMaxJsonDepth) return reject("JSON nested deeper than 128 levels");
    return true;
  }
  bool leave_skip() {
    if (--skip_depth_ == 0) contexts_.pop_back();
    return true;
  }

  bool scalar(Scalar kind, std::string_view text, std::uint64_t number) {
    switch (context()) {
      case Context::skip:
        // An unknown field's scalar value: ignored, like serde does.
        if (skip_depth_ == 0) contexts_.pop_back();
        return true;
      case Context::field_value:
        if (field_ == "dtype" && kind == Scalar::text) {
          if (!find_dtype(text)) {
            return reject("tensor '" + current_tensor_.name + "': unknown dtype '" +
                          std::string(text) + "'");
          }
          current_tensor_.dtype = std::string(text);
          contexts_.pop_back();
          return true;
        }
        return reject("tensor '" + current_tensor_.name + "': expected " + expected() + " for " +
                      field_);
      case Context::numbers:
        if (kind != Scalar::unsigned_int) {
          return reject("tensor '" + current_tensor_.name + "': " + field_ +
                        " holds something other than a non-negative integer");
        }
        numbers_.push_back(number);
        return true;
      case Context::metadata_value:
        contexts_.pop_back();
        if (kind != Scalar::text)
          return reject("__metadata__ value for '" + key_ + "' is not a string");
        if (!metadata_keys_.insert(key_).second) {
          strict.push_back("__metadata__ has the key '" + key_ + "' twice");
        }
        metadata.emplace_back(key_, std::string(text));
        return true;
      case Context::root_value:
        if (key_ == "__metadata__" && kind == Scalar::null) {
          if (seen_metadata_) return reject("the field __metadata__ appears twice");
          seen_metadata_ = true;
          contexts_.pop_back();
          return true;
        }
        return reject("'" + key_ + "': expected " + expected());
      default:
        return reject(std::string("expected ") + expected());
    }
  }

  void start_tensor() {
    current_tensor_ = RawTensor{key_, {}, {}, {}};
    fields_seen_.clear();
  }
  bool tensor_field(const std::string& field) {
    if (!fields_seen_.insert(field).second) {
      return reject("tensor '" + current_tensor_.name + "': duplicate field '" + field + "'");
    }
    field_ = field;
    if (field == "dtype" || field == "shape" || field == "data_offsets") {
      contexts_.push_back(Context::field_value);
      return true;
    }
    strict.push_back("tensor '" + current_tensor_.name + "' has the unknown field '" + field + "'");
    contexts_.push_back(Context::skip);
    skip_depth_ = 0;
    return true;
  }
  bool finish_tensor() {
    RawTensor& tensor = current_tensor_;
    for (const char* field : {"dtype", "shape", "data_offsets"}) {
      if (!fields_seen_.contains(field)) {
        return reject("tensor '" + tensor.name + "': missing field '" + field + "'");
      }
    }
    auto existing = std::find_if(tensors.begin(), tensors.end(),
                                 [&](const RawTensor& t) { return t.name == tensor.name; });
    if (existing != tensors.end()) {
      strict.push_back("the tensor name '" + tensor.name +
                       "' appears twice; the reference keeps only the last");
      *existing = std::move(tensor);
    } else {
      tensors.push_back(std::move(tensor));
    }
    return true;
  }

  std::vector<Context> contexts_;
  std::size_t depth_ = 0;
  std::size_t skip_depth_ = 0;
  bool seen_metadata_ = false;
  std::string key_;
  std::string field_;
  std::vector<std::uint64_t> numbers_;
  RawTensor current_tensor_;
  std::set<std::string> fields_seen_;
  std::set<std::string> metadata_keys_;
};

bool valid_utf8(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size()) {
    auto byte = static_cast<unsigned char>(text[i]);
    std::size_t length = byte < 0x80           ? 1
                         : (byte >> 5) == 0x6  ? 2
                         : (byte >> 4) == 0xE  ? 3
                         : (byte >> 3) == 0x1E ? 4
                                               : 0;
    if (length == 0 || i + length > text.size()) return false;
    std::uint32_t code_point = length == 1 ? byte : byte & (0xFF >> (length + 1));
    for (std::size_t k = 1; k < length; ++k) {
      auto next = static_cast<unsigned char>(text[i + k]);
      if ((next & 0xC0) != 0x80) return false;
      code_point = (code_point << 6) | (next & 0x3F);
    }
    static constexpr std::array<std::uint32_t, 5> kMinimum = {0, 0, 0x80, 0x800, 0x10000};
    if (code_point < kMinimum[length] || code_point > 0x10FFFF ||
        (code_point >= 0xD800 && code_point <= 0xDFFF)) {
      return false;
    }
    i += length;
  }
  return true;
}

std::uint64_t checked_product(const std::vector<std::uint64_t>& values, std::uint64_t start,
                              bool& overflow) {
  std::uint64_t product = start;
  for (std::uint64_t value : values) {
    if (value != 0 && product > std::numeric_limits<std::uint64_t>::max() / value) {
      overflow = true;
      return 0;
    }
    product *= value;
  }
  return product;
}

}  // namespace

Result<SafetensorsInfo> inspect_safetensors(const ByteSource& source,
                                            std::string_view display_name) {
  SafetensorsInfo info;
  std::string prefix = std::string(display_name) + ": ";
  auto invalid = [&](std::string message) -> Result<SafetensorsInfo> {
    info.problems.push_back({WeightProblemKind::safetensors_invalid, prefix + std::move(message)});
    return std::move(info);
  };
  std::uint64_t size = source.size();
  if (size < 8)
    return invalid("only " + std::to_string(size) + " bytes, fewer than the 8-byte header length");
  std::array<std::byte, 8> length_bytes{};
  if (!source.holds(0, 8)) {
    info.complete = false;
    info.problems.push_back(
        {WeightProblemKind::not_available, prefix + "the header length is not available"});
    return info;
  }
  if (auto read = source.read_at(0, length_bytes); !read) return std::move(read).error();
  const std::uint64_t n = load_le(length_bytes, 8);
  info.header_length = n;
  if (n > kSafetensorsMaxHeaderBytes) {
    return invalid("header length " + std::to_string(n) + " is over the reference's limit of " +
                   std::to_string(kSafetensorsMaxHeaderBytes));
  }
  if (8 + n > size) {
    return invalid("header length " + std::to_string(n) + " runs past the end of the " +
                   std::to_string(size) + "-byte file");
  }
  if (!source.holds(8, n)) {
    info.complete = false;
    info.problems.push_back(
        {WeightProblemKind::not_available,
         prefix + "the " + std::to_string(n) + "-byte header is not available"});
    return info;
  }
  std::string header(static_cast<std::size_t>(n), '\0');
  if (auto read = source.read_at(8, std::as_writable_bytes(std::span(header))); !read) {
    return std::move(read).error();
  }
  if (!valid_utf8(header)) return invalid("the header is not valid UTF-8");
  // JSON allows no raw NUL anywhere, and nlohmann's parser would stop at one.
  if (std::size_t nul = header.find('\0'); nul != std::string::npos) {
    return invalid("invalid JSON: a NUL byte at header offset " + std::to_string(nul));
  }

  HeaderHandler handler;
  try {
    nlohmann::json::sax_parse(header, &handler, nlohmann::json::input_format_t::json, true);
  } catch (const std::exception& e) {
    handler.reject(std::string("JSON parser failure: ") + e.what());
  }
  if (handler.invalid) return invalid("header: " + *handler.invalid);
  if (!header.empty() && header.front() != '{') {
    info.problems.push_back({WeightProblemKind::safetensors_strict,
                             prefix + "the header JSON does not start with '{' (the format and "
                                      "newer readers require it)"});
  }
  for (std::string& message : handler.strict) {
    info.problems.push_back({WeightProblemKind::safetensors_strict, prefix + std::move(message)});
  }
  info.metadata = std::move(handler.metadata);

  // The reference's validate(): sorted by (begin, end), contiguous from 0.
  auto& tensors = handler.tensors;
  std::stable_sort(tensors.begin(), tensors.end(),
                   [](const RawTensor& a, const RawTensor& b) { return a.offsets < b.offsets; });
  std::uint64_t end = 0;
  for (const RawTensor& tensor : tensors) {
    auto [begin_offset, end_offset] = tensor.offsets;
    std::string name = "tensor '" + tensor.name + "'";
    if (begin_offset != end || end_offset < begin_offset) {
      return invalid(name + ": data_offsets [" + std::to_string(begin_offset) + ", " +
                     std::to_string(end_offset) +
                     "] do not start where the previous tensor ends (" + std::to_string(end) + ")");
    }
    end = end_offset;
    const SafetensorsDtype& dtype = *find_dtype(tensor.dtype);
    bool overflow = false;
    std::uint64_t elements = checked_product(tensor.shape, 1, overflow);
    std::uint64_t bits = overflow ? 0 : checked_product({elements}, dtype.bits, overflow);
    if (overflow) return invalid(name + ": the element count overflows");
    if (bits % 8 != 0) {
      return invalid(name + ": " + std::to_string(elements) + " elements of " +
                     std::string(dtype.name) + " do not fill whole bytes");
    }
    if (end_offset - begin_offset != bits / 8) {
      return invalid(name + ": covers " + std::to_string(end_offset - begin_offset) +
                     " bytes but its shape and dtype need " + std::to_string(bits / 8));
    }
    info.tensors.push_back({tensor.name, std::string(dtype.torch_name), tensor.shape, bits / 8});
  }
  std::uint64_t data_bytes = size - 8 - n;
  if (end != data_bytes) {
    info.tensors.clear();
    return invalid(end < data_bytes
                       ? std::to_string(data_bytes - end) +
                             " trailing bytes after the last tensor, which ends at data offset " +
                             std::to_string(end)
                       : "the tensors need " + std::to_string(end) +
                             " data bytes but the file has " + std::to_string(data_bytes));
  }
  return info;
}

}  // namespace smpack
