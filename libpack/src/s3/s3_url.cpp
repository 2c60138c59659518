#include <algorithm>
#include <cctype>

#include "smpack/s3.h"

namespace smpack {
namespace {

constexpr std::string_view kScheme = "s3://";

// S3's bucket naming rules, loosely: 3-63 characters of lower case, digits, '.' and '-'.
// Legacy buckets may have upper case and '_', which S3 still serves, so those pass.
bool plausible_bucket(std::string_view bucket) {
  if (bucket.size() < 3 || bucket.size() > 63) return false;
  return std::all_of(bucket.begin(), bucket.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '.' || c == '-' || c == '_';
  });
}

}  // namespace

bool is_s3_url(std::string_view location) {
  return location.starts_with(kScheme);
}

Result<S3Url> parse_s3_url(std::string_view location) {
  if (!is_s3_url(location))
    return Error::usage("'" + std::string(location) + "' is not an s3:// URL");
  std::string_view rest = location.substr(kScheme.size());
  const auto slash = rest.find('/');
  S3Url url;
  url.bucket = std::string(rest.substr(0, slash));
  if (slash != std::string_view::npos) url.key = std::string(rest.substr(slash + 1));
  if (!plausible_bucket(url.bucket)) {
    return Error::usage("'" + std::string(location) + "': '" + url.bucket +
                        "' is not a bucket name (3 to 63 letters, digits, '.' or '-')");
  }
  if (url.key.size() > 1024) {
    return Error::usage("'" + std::string(location) + "': the key is longer than S3's 1024 bytes");
  }
  return url;
}

}  // namespace smpack
