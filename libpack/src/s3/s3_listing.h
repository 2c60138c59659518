// ListObjectsV2 over all its pages.
#pragma once

#include <vector>

#include "s3/s3_session.h"

namespace smpack {

// Keys are asked for URL-encoded (encoding-type=url), so that a key holding bytes XML
// cannot carry (NUL, control characters) still comes back exactly.
struct S3Listing {
  std::vector<S3Object> objects;  // at most max_keys
  bool truncated = false;         // there are more
};
Result<S3Listing> list_objects(S3Session& session, const S3Url& url, std::uint64_t max_keys);

}  // namespace smpack
