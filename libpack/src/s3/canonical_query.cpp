#include "s3/canonical_query.h"

#include <algorithm>

#include "util/uri_encoding.h"

namespace smpack {

std::string canonical_query(std::vector<std::pair<std::string, std::string>> parameters) {
  for (auto& [name, value] : parameters) {
    name = uri_encode(name, false);
    value = uri_encode(value, false);
  }
  std::sort(parameters.begin(), parameters.end());
  std::string query;
  for (const auto& [name, value] : parameters) {
    if (!query.empty()) query += '&';
    query += name + "=" + value;
  }
  return query;
}

}  // namespace smpack
