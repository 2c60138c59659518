// ASCII case and blanks, for protocol and configuration text (HTTP headers, SigV4,
// serving.properties): locale-independent, byte by byte.
#pragma once

#include <string>
#include <string_view>

namespace smpack {

std::string ascii_lower(std::string_view text);
// Without the leading and trailing bytes std::isspace calls space (" \t\n\v\f\r").
std::string_view trim_space(std::string_view text);

}  // namespace smpack
