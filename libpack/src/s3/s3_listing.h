// ListObjectsV2 over all its pages.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "s3/s3_session.h"

namespace smpack {

// Keys are asked for URL-encoded (encoding-type=url), so that a key holding bytes XML
// cannot carry (NUL, control characters) still comes back exactly.
struct S3Listing {
  std::vector<S3Object> objects;  // at most max_keys
  bool truncated = false;         // there are more
};
// One page of a ListObjectsV2 answer: its objects (keys decoded), and the token of the
// next page ("" on the last). io error when the body is not a listing.
struct S3ListPage {
  std::vector<S3Object> objects;
  std::string continuation;
};
Result<S3ListPage> parse_list_page(std::string_view body, std::string_view what);

Result<S3Listing> list_objects(S3Session& session, const S3Url& url, std::uint64_t max_keys);

}  // namespace smpack
