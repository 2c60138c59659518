// What every S3 request shares: the resolved credentials, region and endpoint, the
// connection pool, and the retry policy. Requests are made fresh for each attempt, so a
// ranged GET resumes where a dropped one stopped. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "s3/aws_setup.h"
#include "s3/http_client.h"
#include "smpack/s3.h"

namespace smpack {

struct S3Request {
  std::string method = "GET";
  std::string bucket;
  std::string key;                                         // "" for a bucket request
  std::vector<std::pair<std::string, std::string>> query;  // unencoded
  std::vector<std::string> headers;                        // "name: value"
  std::function<bool(std::span<const char>)> on_body;      // see HttpRequest::on_body
  // PUT/POST payload (the caller keeps it alive) and what signs it: its SHA-256 in hex
  // (computed here when the caller leaves it empty), or kUnsignedPayload when a signed
  // x-amz-checksum-* header protects the bytes instead.
  std::string_view body;
  std::string payload_hash;
  // Sent even after a cancel: the abort of an upload that a Ctrl-C stopped.
  bool despite_cancel = false;
};

inline constexpr const char* kUnsignedPayload = "UNSIGNED-PAYLOAD";

// S3 quotes ETags ("abc"); messages and manifests show them bare.
std::string etag_without_quotes(std::string etag);

class S3Session {
 public:
  static Result<std::shared_ptr<S3Session>> connect(const AwsEnvironment& environment,
                                                    const S3Settings& settings);

  const AwsSetup& setup() const { return setup_; }
  HttpClient& http() { return http_; }
  const HttpClient& http() const { return http_; }

  // Sends make_request() until it succeeds (2xx, or one of `accepted`), retrying
  // throttling, 5xx and dropped connections with backoff, and following a bucket's
  // region when S3 names it. Any other answer is an io error about `what` (an
  // s3:// URL) that says what S3 refused and why.
  Result<HttpResponse> send(const std::function<S3Request()>& make_request, const std::string& what,
                            const std::vector<long>& accepted = {});

 private:
  S3Session(AwsSetup setup, S3Settings settings);
  std::string url_of(const S3Request& request, const std::string& region) const;
  std::string region_of(const std::string& bucket) const;
  HttpResponse send_once(const S3Request& request);

  AwsSetup setup_;
  S3Settings settings_;
  HttpClient http_;
  mutable std::mutex mutex_;
  std::map<std::string, std::string> bucket_regions_;  // learnt from redirects
};

}  // namespace smpack
