#include "input_spec.h"

#include <array>
#include <charconv>
#include <utility>

namespace smpack::harness {
namespace {

constexpr std::array<std::pair<ElementType, std::string_view>, 10> kTypeNames{{
    {ElementType::float64, "float64"},
    {ElementType::float32, "float32"},
    {ElementType::float16, "float16"},
    {ElementType::bfloat16, "bfloat16"},
    {ElementType::int64, "int64"},
    {ElementType::int32, "int32"},
    {ElementType::int16, "int16"},
    {ElementType::int8, "int8"},
    {ElementType::uint8, "uint8"},
    {ElementType::boolean, "bool"},
}};

// Beyond this an input could not be allocated anyway; refusing early gives a clear message.
constexpr std::uint64_t kMaxInputElements = 1ull << 40;

Result<std::int64_t> parse_non_negative(std::string_view text, std::string_view what) {
  std::int64_t value = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || error != std::errc() || end != text.data() + text.size() || value < 0) {
    return Error::usage(std::string(what) + " '" + std::string(text) +
                        "' is not a non-negative integer");
  }
  return value;
}

Result<std::vector<std::int64_t>> parse_shape(std::string_view text) {
  std::vector<std::int64_t> shape;
  if (text.empty() || text == "scalar") return shape;
  std::uint64_t elements = 1;
  while (true) {
    const auto separator = text.find_first_of("x,");
    auto dimension = parse_non_negative(text.substr(0, separator), "dimension");
    if (!dimension) return std::move(dimension).error();
    const auto size = static_cast<std::uint64_t>(*dimension);
    if (size != 0 && elements > kMaxInputElements / size) {
      return Error::usage("shape has more than 2^40 elements");
    }
    elements *= size;
    shape.push_back(*dimension);
    if (separator == std::string_view::npos) return shape;
    text.remove_prefix(separator + 1);
  }
}

}  // namespace

Result<ElementType> parse_element_type(std::string_view name) {
  for (const auto& [type, type_name] : kTypeNames) {
    if (name == type_name) return type;
  }
  return Error::usage("unknown element type '" + std::string(name) +
                      "' (float64, float32, float16, bfloat16, int64, int32, int16, int8, "
                      "uint8, bool)");
}

std::string_view element_type_name(ElementType type) {
  for (const auto& [known, name] : kTypeNames) {
    if (known == type) return name;
  }
  return "?";
}

bool is_floating(ElementType type) {
  return type == ElementType::float64 || type == ElementType::float32 ||
         type == ElementType::float16 || type == ElementType::bfloat16;
}

Result<InputSpec> parse_input_spec(std::string_view text) {
  const auto context = "--input '" + std::string(text) + "'";
  const auto first_colon = text.find(':');
  if (first_colon == std::string_view::npos) {
    return Error::usage(context + ": expected SHAPE:DTYPE[:HIGH], e.g. 1x3x224x224:float32");
  }
  InputSpec spec;
  auto shape = parse_shape(text.substr(0, first_colon));
  if (!shape) return std::move(shape).error().with_context(context);
  spec.shape = std::move(*shape);

  auto rest = text.substr(first_colon + 1);
  const auto second_colon = rest.find(':');
  auto type = parse_element_type(rest.substr(0, second_colon));
  if (!type) return std::move(type).error().with_context(context);
  spec.type = *type;
  if (second_colon != std::string_view::npos) {
    auto high = parse_non_negative(rest.substr(second_colon + 1), "HIGH");
    if (!high) return std::move(high).error().with_context(context);
    if (*high < 1) return Error::usage(context + ": HIGH must be at least 1");
    spec.integer_high = *high;
  }
  return spec;
}

std::string describe(const InputSpec& spec) {
  std::string text;
  for (std::size_t i = 0; i < spec.shape.size(); ++i) {
    if (i > 0) text += 'x';
    text += std::to_string(spec.shape[i]);
  }
  if (spec.shape.empty()) text = "scalar";
  return text + ":" + std::string(element_type_name(spec.type));
}

}  // namespace smpack::harness
