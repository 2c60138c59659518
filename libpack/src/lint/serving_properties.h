// DJL Serving's serving.properties, read as java.util.Properties.load reads it (DJL's
// ModelInfo does): "key=value", "key: value" or "key value"; '#' and '!' start a comment
// line; a line ending in an odd number of backslashes continues on the next.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace smpack::lint_internal {

struct PropertyLine {
  std::string key;
  std::string value;
  int line = 0;  // 1-based, where the entry starts
};

std::vector<PropertyLine> parse_serving_properties(std::string_view text);

}  // namespace smpack::lint_internal
