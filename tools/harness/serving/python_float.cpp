#include "serving/python_float.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace smpack::harness {

std::string python_float_repr(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value < 0 ? "-inf" : "inf";
  // to_chars gives the shortest round-trip digits, as Python's dtoa mode 0 does; only
  // the layout differs, so take its digits and exponent and lay them out as repr does.
  char buffer[64];
  const auto written =
      std::to_chars(buffer, buffer + sizeof(buffer), value, std::chars_format::scientific);
  std::string_view text(buffer, static_cast<std::size_t>(written.ptr - buffer));
  std::string sign;
  if (text.front() == '-') {
    sign = "-";
    text.remove_prefix(1);
  }
  const auto e = text.find('e');
  std::string digits(text.substr(0, e));
  if (digits.size() > 1) digits.erase(1, 1);  // the '.'
  const int exponent = std::atoi(std::string(text.substr(e + 1)).c_str());
  const int point = exponent + 1;  // digits before the decimal point
  const int count = static_cast<int>(digits.size());
  if (point > -4 && point <= 16) {
    if (point <= 0)
      return sign + "0." + std::string(static_cast<std::size_t>(-point), '0') + digits;
    if (point >= count)
      return sign + digits + std::string(static_cast<std::size_t>(point - count), '0') + ".0";
    return sign + digits.substr(0, static_cast<std::size_t>(point)) + "." +
           digits.substr(static_cast<std::size_t>(point));
  }
  std::string mantissa = digits.substr(0, 1);
  if (count > 1) mantissa += "." + digits.substr(1);
  const int shown = std::abs(exponent);
  return sign + mantissa + "e" + (exponent < 0 ? "-" : "+") + (shown < 10 ? "0" : "") +
         std::to_string(shown);
}

}  // namespace smpack::harness
