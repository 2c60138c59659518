// SigV4's canonical query, built here because curl 7.88 signs the query exactly as given:
// it neither sorts nor encodes it (fixed in 8.3).
#pragma once

#include <string>
#include <utility>
#include <vector>

namespace smpack {

// name=value pairs, encoded and sorted by name; a parameter without a value is written
// "name=" ("uploads=").
std::string canonical_query(std::vector<std::pair<std::string, std::string>> parameters);

}  // namespace smpack
