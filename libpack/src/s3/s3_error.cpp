#include "s3/s3_error.h"

#include <pugixml.hpp>

namespace smpack {

S3ErrorBody parse_s3_error(const std::string& body) {
  S3ErrorBody error;
  pugi::xml_document doc;
  if (body.empty() || !doc.load_buffer(body.data(), body.size())) return error;
  const auto root = doc.child("Error");
  error.code = root.child_value("Code");
  error.message = root.child_value("Message");
  error.region = root.child_value("Region");
  return error;
}

bool is_retryable(const HttpResponse& response, const S3ErrorBody& error) {
  if (response.stopped) return false;
  if (!response.transport_error.empty()) return true;
  if (response.status >= 500 || response.status == 429) return true;
  return error.code == "SlowDown" || error.code == "RequestTimeout" ||
         error.code == "InternalError";
}

std::string bucket_region_from(const HttpResponse& response, const S3ErrorBody& error) {
  const bool redirect = response.status == 301 || response.status == 307 ||
                        error.code == "PermanentRedirect" ||
                        error.code == "AuthorizationHeaderMalformed" ||
                        error.code == "IllegalLocationConstraintException";
  if (!redirect) return {};
  if (auto header = response.header("x-amz-bucket-region"); !header.empty()) return header;
  return error.region;
}

Error describe_s3_failure(const HttpResponse& response, const S3ErrorBody& error,
                          const S3FailureContext& context) {
  const std::string& what = context.what;
  if (!response.transport_error.empty()) return Error::io(what + ": " + response.transport_error);
  const std::string said = error.code.empty()
                               ? "HTTP " + std::to_string(response.status)
                               : error.code + (error.message.empty() ? "" : ": " + error.message);
  const std::string credentials = "credentials from " + context.credential_source;
  if (error.code == "NoSuchBucket")
    return Error::io(what + ": bucket '" + context.bucket + "' does not exist");
  if (response.status == 404 || error.code == "NoSuchKey") return Error::io(what + ": no such key");
  if (error.code == "SignatureDoesNotMatch" || error.code == "InvalidAccessKeyId" ||
      error.code == "InvalidToken" || error.code == "ExpiredToken") {
    return Error::io(what + ": S3 refused the " + credentials + " (" + said +
                     "); check the access key, secret key and session token");
  }
  if (response.status == 403) {
    return Error::io(what + ": access denied to bucket '" + context.bucket + "' with " +
                     credentials + " (" + said + ")");
  }
  if (response.status == 412) {
    return Error::io(what +
                     ": the object changed while it was being read (its ETag no longer "
                     "matches the first answer); run the command again");
  }
  if (response.status == 301 || error.code == "PermanentRedirect" ||
      error.code == "AuthorizationHeaderMalformed") {
    return Error::io(what + ": bucket '" + context.bucket + "' is not in region " + context.region +
                     "; set AWS_REGION to the bucket's region (" + said + ")");
  }
  return Error::io(what + ": S3 answered " + said);
}

}  // namespace smpack
