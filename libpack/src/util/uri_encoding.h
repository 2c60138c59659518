// Percent-encoding of URI paths: every byte but A-Z a-z 0-9 - _ . ~ as %XX (RFC 3986's
// unreserved set), which is also how S3 wants a key encoded in a signed path.
#pragma once

#include <string>
#include <string_view>

namespace smpack {

// '/' too unless keep_slash (a path keeps its separators).
std::string uri_encode(std::string_view text, bool keep_slash);

}  // namespace smpack
