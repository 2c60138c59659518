// np.genfromtxt(body, dtype=None, delimiter=",") as numpy 1.26 reads it (lib/npyio.py,
// lib/_iotools.py), then torch.FloatTensor; and np.savetxt(prediction, delimiter=",",
// fmt="%s") for responses.
//
// Each column starts as bool and is upgraded value by value to int, then float, as
// StringConverter does; an empty field is a missing value (bool False, int -1, float
// nan). The array has one type only if every column that numpy counts as checked has
// the same type; otherwise genfromtxt makes a structured array, which FloatTensor
// refuses. The result is squeezed.
#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdint>
#include <limits>
#include <optional>

#include "serving/payload_codecs.h"
#include "serving/python_float.h"

namespace smpack::harness {
namespace {

enum class ColumnType { boolean, integer, floating, other };

std::string_view python_strip(std::string_view text) {
  // str.isspace's ASCII members (the file, group, record and unit separators too).
  constexpr std::string_view kSpace = " \t\n\r\v\f\x1c\x1d\x1e\x1f";
  const auto first = text.find_first_not_of(kSpace);
  if (first == std::string_view::npos) return {};
  return text.substr(first, text.find_last_not_of(kSpace) - first + 1);
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Python's digitpart: digits with single underscores between them; returns the digits.
std::optional<std::string> digit_part(std::string_view text, std::size_t& pos) {
  std::string digits;
  while (pos < text.size()) {
    if (is_digit(text[pos])) {
      digits += text[pos++];
    } else if (text[pos] == '_' && !digits.empty() && pos + 1 < text.size() &&
               is_digit(text[pos + 1])) {
      ++pos;
    } else {
      break;
    }
  }
  if (digits.empty()) return std::nullopt;
  return digits;
}

// str2bool: "TRUE" or "FALSE" in any case, nothing around them.
std::optional<bool> parse_bool(std::string_view field) {
  std::string upper(field);
  std::transform(upper.begin(), upper.end(), upper.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  if (upper == "TRUE") return true;
  if (upper == "FALSE") return false;
  return std::nullopt;
}

// int(field), accepted only when it fits in int64 (numpy checks np.array(value, int64)).
std::optional<std::int64_t> parse_int(std::string_view field) {
  const auto text = python_strip(field);
  std::size_t pos = 0;
  std::string number;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    if (text[pos] == '-') number = "-";
    ++pos;
  }
  auto digits = digit_part(text, pos);
  if (!digits || pos != text.size()) return std::nullopt;
  number += *digits;
  std::int64_t value = 0;
  const auto parsed = std::from_chars(number.data(), number.data() + number.size(), value);
  if (parsed.ec != std::errc()) return std::nullopt;
  return value;
}

// float(field): Python's float syntax, underscores included, and nan/inf/infinity.
std::optional<double> parse_float(std::string_view field) {
  const auto text = python_strip(field);
  std::size_t pos = 0;
  bool negative = false;
  if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) negative = text[pos++] == '-';
  std::string word(text.substr(pos));
  std::transform(word.begin(), word.end(), word.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (word == "nan") return std::numeric_limits<double>::quiet_NaN();
  if (word == "inf" || word == "infinity")
    return negative ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity();
  std::string number = negative ? "-" : "";
  const auto whole = digit_part(text, pos);
  if (whole) number += *whole;
  bool fraction = false;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    number += '.';
    if (auto digits = digit_part(text, pos)) {
      number += *digits;
      fraction = true;
    }
  }
  if (!whole && !fraction) return std::nullopt;
  if (pos < text.size() && (text[pos] == 'e' || text[pos] == 'E')) {
    ++pos;
    number += 'e';
    if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) number += text[pos++];
    auto exponent = digit_part(text, pos);
    if (!exponent) return std::nullopt;
    number += *exponent;
  }
  if (pos != text.size()) return std::nullopt;
  // strtod, not from_chars: Python gives inf and 0 where from_chars reports a range error.
  return std::strtod(number.c_str(), nullptr);
}

bool converts(ColumnType type, std::string_view field) {
  switch (type) {
    case ColumnType::boolean:
      return parse_bool(field).has_value();
    case ColumnType::integer:
      return parse_int(field).has_value();
    case ColumnType::floating:
      return parse_float(field).has_value();
    case ColumnType::other:
      return true;
  }
  return false;
}

// One column's StringConverter after iterupgrade over the column: every value is tried
// with the current type, and the first that fails (and is not missing) upgrades the type
// and starts the column over, so a column of True then 5 ends as text, not int. A missing
// value met while the type is still bool leaves the column unchecked, as _strict_call does.
struct Column {
  ColumnType type = ColumnType::boolean;
  bool checked = true;
};

Column infer_column(const std::vector<std::vector<std::string_view>>& rows, std::size_t index) {
  Column column;
  for (bool restart = true; restart;) {
    restart = false;
    column.checked = true;
    for (const auto& row : rows) {
      const auto field = row[index];
      if (converts(column.type, field)) continue;
      if (python_strip(field).empty()) {
        if (column.type == ColumnType::boolean) column.checked = false;
        continue;
      }
      column.type = static_cast<ColumnType>(static_cast<int>(column.type) + 1);
      restart = true;
      break;
    }
  }
  return column;
}

const char* type_name(ColumnType type) {
  switch (type) {
    case ColumnType::boolean:
      return "bool";
    case ColumnType::integer:
      return "int";
    case ColumnType::floating:
      return "float";
    case ColumnType::other:
      return "text";
  }
  return "?";
}

std::vector<std::string_view> split(std::string_view text, char separator) {
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  while (true) {
    const auto end = text.find(separator, start);
    parts.push_back(text.substr(start, end == std::string_view::npos ? end : end - start));
    if (end == std::string_view::npos) return parts;
    start = end + 1;
  }
}

// LineSplitter: the text before '#', stripped of " \r\n"; an empty line is skipped.
std::vector<std::vector<std::string_view>> csv_rows(std::string_view body) {
  std::vector<std::vector<std::string_view>> rows;
  for (auto line : split(body, '\n')) {
    line = line.substr(0, line.find('#'));
    const auto first = line.find_first_not_of(" \r\n");
    if (first == std::string_view::npos) continue;
    line = line.substr(first, line.find_last_not_of(" \r\n") - first + 1);
    rows.push_back(split(line, ','));
  }
  return rows;
}

float to_float32(ColumnType type, std::string_view field) {
  const bool missing = python_strip(field).empty();
  switch (type) {
    // infer_column made every field that is not missing convert with its column's type.
    case ColumnType::boolean:
      return !missing && parse_bool(field).value_or(false) ? 1.0f : 0.0f;
    case ColumnType::integer:
      return missing ? -1.0f : static_cast<float>(parse_int(field).value_or(-1));
    default:
      return static_cast<float>(
          parse_float(field).value_or(std::numeric_limits<double>::quiet_NaN()));
  }
}

void append_text_scalar(const NdArray& array, std::size_t index, std::string& out) {
  switch (array.type) {
    case ElementType::boolean:
      out += array.elements<std::uint8_t>()[index] != 0 ? "True" : "False";
      return;
    case ElementType::int64:
      out += std::to_string(array.elements<std::int64_t>()[index]);
      return;
    default:
      out += python_float_repr(array.elements<double>()[index]);
  }
}

}  // namespace

PayloadResult<NdArray> decode_csv(std::string_view body) {
  const auto rows = csv_rows(body);
  if (rows.empty())
    return PayloadError{500, "the CSV body has no rows (np.genfromtxt: Empty input file)"};
  const std::size_t width = rows.front().size();
  for (std::size_t i = 0; i < rows.size(); ++i) {
    if (rows[i].size() != width) {
      return PayloadError{500, "Some errors were detected ! Line #" + std::to_string(i + 1) +
                                   " (got " + std::to_string(rows[i].size()) +
                                   " columns instead of " + std::to_string(width) + ")"};
    }
  }
  std::vector<Column> columns;
  for (std::size_t c = 0; c < width; ++c) columns.push_back(infer_column(rows, c));
  std::optional<ColumnType> uniform;
  for (std::size_t c = 0; c < width; ++c) {
    if (!columns[c].checked) continue;
    if (columns[c].type == ColumnType::other) {
      return PayloadError{500, "CSV column " + std::to_string(c + 1) +
                                   " holds text that is not a number: np.genfromtxt makes it "
                                   "a string column, which torch.FloatTensor cannot convert"};
    }
    if (uniform && *uniform != columns[c].type) {
      return PayloadError{
          500, "CSV columns of different types (column " + std::to_string(c + 1) + " is " +
                   type_name(columns[c].type) + ", an earlier one " + type_name(*uniform) +
                   "): np.genfromtxt makes a structured array (numpy.void), which "
                   "torch.FloatTensor cannot convert; write every column as floats"};
    }
    uniform = columns[c].type;
  }
  if (!uniform) {
    return PayloadError{500,
                        "every CSV column is empty: np.genfromtxt makes a structured array, "
                        "which torch.FloatTensor cannot convert"};
  }
  std::vector<float> values;
  values.reserve(rows.size() * width);
  for (const auto& row : rows) {
    for (std::size_t c = 0; c < width; ++c) {
      // An unchecked column keeps bool's converter, whose missing value is False.
      values.push_back(to_float32(columns[c].checked ? *uniform : ColumnType::boolean, row[c]));
    }
  }
  std::vector<std::int64_t> shape;
  for (const auto dim : {static_cast<std::int64_t>(rows.size()), static_cast<std::int64_t>(width)})
    if (dim != 1) shape.push_back(dim);
  return float32_array(std::move(shape), values);
}

PayloadResult<std::string> encode_csv(const NdArray& prediction) {
  const auto rank = prediction.shape.size();
  if (rank == 0 || rank > 2) {
    return PayloadError{500, "Expected 1D or 2D array, got " + std::to_string(rank) +
                                 "D array instead (np.savetxt writes CSV of 1-D or 2-D "
                                 "predictions only)"};
  }
  // np.savetxt writes a 1-D array as a column: one value per line.
  const std::int64_t rows = prediction.shape[0];
  const std::int64_t width = rank == 1 ? 1 : prediction.shape[1];
  std::string out;
  std::size_t index = 0;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < width; ++c) {
      if (c > 0) out += ',';
      append_text_scalar(prediction, index++, out);
    }
    out += '\n';
  }
  return out;
}

}  // namespace smpack::harness
