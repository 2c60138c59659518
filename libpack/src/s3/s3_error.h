// S3's answers that are not data, read and turned into messages a user can act on.
#pragma once

#include <string>

#include "s3/http_client.h"
#include "smpack/result.h"

namespace smpack {

// <Error><Code/><Message/><Region/></Error>; empty fields when absent or not XML.
struct S3ErrorBody {
  std::string code;
  std::string message;
  std::string region;
};
S3ErrorBody parse_s3_error(const std::string& body);

// Whether another attempt may succeed: throttling, 5xx, a dropped connection.
bool is_retryable(const HttpResponse& response, const S3ErrorBody& error);

// The region S3 says the bucket is in ("" when it does not say).
std::string bucket_region_from(const HttpResponse& response, const S3ErrorBody& error);

struct S3FailureContext {
  std::string what;  // s3://bucket/key
  std::string bucket;
  std::string region;  // the one the request was signed for
  std::string credential_source;
};
Error describe_s3_failure(const HttpResponse& response, const S3ErrorBody& error,
                          const S3FailureContext& context);

}  // namespace smpack
