// Percent-encoding the S3 way, done here because curl 7.88 signs the path and query
// exactly as given: it neither encodes the path (8.9) nor sorts the query (8.3).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace smpack {

// Every byte but A-Z a-z 0-9 - _ . ~ as %XX; '/' too unless keep_slash (an object key
// in a path keeps its slashes).
std::string uri_encode(std::string_view text, bool keep_slash);

// name=value pairs, encoded and sorted by name as SigV4's canonical query is; a
// parameter without a value is written "name=" ("uploads=").
std::string canonical_query(std::vector<std::pair<std::string, std::string>> parameters);

}  // namespace smpack
