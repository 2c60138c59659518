// json.loads followed by np.array, for the arrays of numbers a model takes. Python's
// json reads NaN and Infinity, which JSON libraries refuse, and np.array needs a
// rectangular nesting, so this reads that subset itself, straight into float32; any
// other value (an object, a string, null) makes np.array an object or string array,
// which torch.FloatTensor refuses, and is a 500 here too.
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "serving/payload_codecs.h"
#include "serving/python_float.h"

namespace smpack::harness {
namespace {

constexpr int kMaxDimensions = 32;  // NPY_MAXDIMS

// One scalar as json.loads gives it. np.array gives each Python int int64, or uint64 when
// only that holds it, and promotes: float64 if any is a float or if int64 meets uint64,
// else uint64 (which torch.FloatTensor refuses), int64, or bool. Each converts to float32
// its own way.
struct Scalar {
  enum class Kind { boolean, integer, unsigned_integer, floating } kind;
  std::int64_t integer = 0;
  double floating = 0;  // also a uint64's value
  std::uint64_t unsigned_integer = 0;
};

class JsonArrayReader {
 public:
  explicit JsonArrayReader(std::string_view text) : text_(text) {}

  std::optional<PayloadError> read() {
    skip_space();
    if (auto failed = value(0)) return failed;
    skip_space();
    if (pos_ != text_.size()) return fail("Extra data");
    return std::nullopt;
  }

  std::optional<PayloadError> result_type(Scalar::Kind& widest) const {
    bool any_int64 = false;
    bool any_uint64 = false;
    widest = Scalar::Kind::boolean;
    for (const auto& scalar : scalars_) {
      any_int64 |= scalar.kind == Scalar::Kind::integer;
      any_uint64 |= scalar.kind == Scalar::Kind::unsigned_integer;
      widest = std::max(widest, scalar.kind);
    }
    if (any_int64 && any_uint64) widest = Scalar::Kind::floating;
    if (widest == Scalar::Kind::unsigned_integer) {
      return PayloadError{500,
                          "np.array of this JSON is a uint64 array (an integer of 2**63 or "
                          "more), which torch.FloatTensor cannot convert"};
    }
    return std::nullopt;
  }

  PayloadResult<NdArray> to_float32() const {
    Scalar::Kind widest{};
    if (auto refused = result_type(widest)) return *refused;
    std::vector<float> values;
    values.reserve(scalars_.size());
    for (const auto& scalar : scalars_) {
      switch (scalar.kind) {
        case Scalar::Kind::boolean:
        case Scalar::Kind::integer:
          // An int64 array converts each element to float32 at once; a float64 array
          // holds the int as a double first.
          values.push_back(widest == Scalar::Kind::floating
                               ? static_cast<float>(static_cast<double>(scalar.integer))
                               : static_cast<float>(scalar.integer));
          break;
        case Scalar::Kind::unsigned_integer:
          values.push_back(static_cast<float>(static_cast<double>(scalar.unsigned_integer)));
          break;
        case Scalar::Kind::floating:
          values.push_back(static_cast<float>(scalar.floating));
          break;
      }
    }
    return float32_array(shape_, values);
  }

 private:
  PayloadError fail(const std::string& what) const {
    return {500, what + ": line 1 column " + std::to_string(pos_ + 1) + " (char " +
                     std::to_string(pos_) + ")"};
  }
  static PayloadError not_numeric(const std::string& what) {
    return {500, "np.array of this JSON is an array of " + what +
                     ", which torch.FloatTensor cannot convert"};
  }
  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool take(std::string_view word) {
    if (text_.substr(pos_, word.size()) != word) return false;
    pos_ += word.size();
    return true;
  }

  // np.array needs every list at one depth to have one length, and scalars at one depth
  // only; lengths are known only when a list closes, inner lists first.
  static PayloadError ragged(int depth) {
    return {500,
            "setting an array element with a sequence. The requested array has an "
            "inhomogeneous shape after " +
                std::to_string(depth) + " dimensions"};
  }
  bool known(int depth) const {
    return static_cast<std::size_t>(depth) < shape_.size() &&
           shape_[static_cast<std::size_t>(depth)] >= 0;
  }
  std::optional<PayloadError> note_scalar(int depth) {
    if ((leaf_depth_ && *leaf_depth_ != depth) || known(depth)) return ragged(depth);
    leaf_depth_ = depth;
    return std::nullopt;
  }
  std::optional<PayloadError> note_list(int depth, std::int64_t length) {
    if (leaf_depth_ && depth >= *leaf_depth_) return ragged(*leaf_depth_);
    const auto index = static_cast<std::size_t>(depth);
    if (shape_.size() <= index) shape_.resize(index + 1, -1);
    if (shape_[index] < 0) shape_[index] = length;
    if (shape_[index] != length) return ragged(depth);
    return std::nullopt;
  }

  std::optional<PayloadError> value(int depth) {
    if (pos_ >= text_.size()) return fail("Expecting value");
    const char c = text_[pos_];
    if (c == '[') return list(depth);
    if (c == '{') return not_numeric("objects (numpy.object_)");
    if (c == '"') return not_numeric("strings (numpy.str_)");
    if (take("null")) return not_numeric("None (numpy.object_)");
    if (auto failed = note_scalar(depth)) return failed;
    if (take("true")) return scalars_.push_back({Scalar::Kind::boolean, 1, 0, 0}), std::nullopt;
    if (take("false")) return scalars_.push_back({Scalar::Kind::boolean, 0, 0, 0}), std::nullopt;
    if (take("NaN")) return push_float(std::numeric_limits<double>::quiet_NaN());
    if (take("Infinity")) return push_float(std::numeric_limits<double>::infinity());
    if (take("-Infinity")) return push_float(-std::numeric_limits<double>::infinity());
    return number();
  }

  std::optional<PayloadError> push_float(double value) {
    scalars_.push_back({Scalar::Kind::floating, 0, value, 0});
    return std::nullopt;
  }

  // Python's json number: -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?
  std::optional<PayloadError> number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t from = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      return pos_ - from;
    };
    if (pos_ < text_.size() && text_[pos_] == '-') ++pos_;
    const std::size_t integer_start = pos_;
    const std::size_t integer_digits = digits();
    if (integer_digits == 0) return fail("Expecting value");
    if (integer_digits > 1 && text_[integer_start] == '0') pos_ = integer_start + 1;
    bool is_float = false;
    if (pos_ + 1 < text_.size() && text_[pos_] == '.' && text_[pos_ + 1] >= '0' &&
        text_[pos_ + 1] <= '9') {
      ++pos_;
      digits();
      is_float = true;
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      const std::size_t mark = pos_++;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      if (digits() == 0) {
        pos_ = mark;
      } else {
        is_float = true;
      }
    }
    const char* first = text_.data() + start;
    const char* last = text_.data() + pos_;
    if (is_float) {
      double value = 0;
      const auto parsed = std::from_chars(first, last, value);
      // from_chars reports range errors instead of giving Python's inf or 0.
      if (parsed.ec == std::errc::result_out_of_range) {
        value = std::strtod(std::string(first, last).c_str(), nullptr);
      }
      return push_float(value);
    }
    std::int64_t value = 0;
    if (std::from_chars(first, last, value).ec == std::errc()) {
      scalars_.push_back({Scalar::Kind::integer, value, 0, 0});
      return std::nullopt;
    }
    std::uint64_t unsigned_value = 0;
    if (std::from_chars(first, last, unsigned_value).ec == std::errc()) {
      scalars_.push_back({Scalar::Kind::unsigned_integer, 0, 0, unsigned_value});
      return std::nullopt;
    }
    return PayloadError{500, "the JSON integer " + std::string(first, last) +
                                 " does not fit in 64 bits: np.array makes an object array, "
                                 "which torch.FloatTensor cannot convert"};
  }

  std::optional<PayloadError> list(int depth) {
    if (depth >= kMaxDimensions) {
      return PayloadError{500, "the JSON nests deeper than numpy's 32 dimensions"};
    }
    ++pos_;  // '['
    skip_space();
    std::int64_t length = 0;
    if (pos_ < text_.size() && text_[pos_] == ']') {
      ++pos_;
    } else {
      while (true) {
        skip_space();
        if (auto failed = value(depth + 1)) return failed;
        ++length;
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == ',') {
          ++pos_;
          continue;
        }
        if (pos_ < text_.size() && text_[pos_] == ']') {
          ++pos_;
          break;
        }
        return fail("Expecting ',' delimiter");
      }
    }
    return note_list(depth, length);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::vector<std::int64_t> shape_;
  std::optional<int> leaf_depth_;
  std::vector<Scalar> scalars_;
};

void append_json_scalar(const NdArray& array, std::size_t index, std::string& out) {
  switch (array.type) {
    case ElementType::boolean:
      out += array.elements<std::uint8_t>()[index] != 0 ? "true" : "false";
      return;
    case ElementType::int64:
      out += std::to_string(array.elements<std::int64_t>()[index]);
      return;
    default: {
      const double value = array.elements<double>()[index];
      if (std::isnan(value)) {
        out += "NaN";
      } else if (std::isinf(value)) {
        out += value < 0 ? "-Infinity" : "Infinity";
      } else {
        out += python_float_repr(value);
      }
    }
  }
}

void append_json_level(const NdArray& array, std::size_t depth, std::size_t& index,
                       std::string& out) {
  if (depth == array.shape.size()) return append_json_scalar(array, index++, out);
  out += '[';
  for (std::int64_t i = 0; i < array.shape[depth]; ++i) {
    if (i > 0) out += ", ";
    append_json_level(array, depth + 1, index, out);
  }
  out += ']';
}

}  // namespace

PayloadResult<NdArray> decode_json(std::string_view body) {
  JsonArrayReader reader(body);
  if (auto failed = reader.read()) return *failed;
  return reader.to_float32();
}

std::string encode_json(const NdArray& prediction) {
  std::string out;
  std::size_t index = 0;
  append_json_level(prediction, 0, index, out);
  return out;
}

}  // namespace smpack::harness
