// What the user asked the model to be fed: `--input SHAPE:DTYPE[:HIGH]`, e.g.
// `8x3x224x224:float32` or `1x128:int64:30522` (integers are drawn from [0, HIGH)).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/result.h"

namespace smpack::harness {

// Element types the harness can generate, compare and report; names as Torch spells them.
enum class ElementType {
  float64,
  float32,
  float16,
  bfloat16,
  int64,
  int32,
  int16,
  int8,
  uint8,
  boolean
};

// Error::usage for a name not listed above.
Result<ElementType> parse_element_type(std::string_view name);
std::string_view element_type_name(ElementType type);
bool is_floating(ElementType type);

struct InputSpec {
  std::vector<std::int64_t> shape;  // "x"- or ","-separated; may be empty for a scalar
  ElementType type = ElementType::float32;
  std::int64_t integer_high = 2;  // integers are uniform in [0, integer_high)
};

// Error::usage naming what is wrong: a non-numeric or negative dimension, a shape of
// more than 2^40 elements, an unknown type, or HIGH < 1.
Result<InputSpec> parse_input_spec(std::string_view text);
std::string describe(const InputSpec& spec);  // "8x3x224x224:float32"

}  // namespace smpack::harness
