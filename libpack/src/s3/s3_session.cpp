#include "s3/s3_session.h"

#include <algorithm>
#include <random>
#include <thread>

#include "s3/canonical_query.h"
#include "s3/s3_error.h"
#include "smpack/digest.h"
#include "util/uri_encoding.h"

namespace smpack {
namespace {

// SHA-256 of the empty payload. curl 7.88 neither adds UNSIGNED-PAYLOAD nor hashes a
// body it does not send as POSTFIELDS, so every request states its payload hash; a
// GET's is the empty one either way.
constexpr std::string_view kEmptyPayloadSha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

// Full jitter (AWS's "Exponential Backoff And Jitter"): a uniform wait in
// [0, min(cap, first * 2^attempt)).
std::chrono::milliseconds backoff(unsigned attempt, const S3Settings& settings) {
  static thread_local std::mt19937_64 random{std::random_device{}()};
  const auto ceiling = std::min<std::int64_t>(
      settings.max_backoff.count(), settings.first_backoff.count() << std::min(attempt, 20u));
  std::uniform_int_distribution<std::int64_t> wait(0, std::max<std::int64_t>(ceiling, 1));
  return std::chrono::milliseconds(wait(random));
}

// Sleeps in short steps so that Ctrl-C is not kept waiting; false when cancelled.
bool wait_unless_cancelled(std::chrono::milliseconds wait, const CancelToken* cancel) {
  const auto until = std::chrono::steady_clock::now() + wait;
  while (std::chrono::steady_clock::now() < until) {
    if (cancel && cancel->cancelled()) return false;
    std::this_thread::sleep_for(std::min<std::chrono::milliseconds>(
        std::chrono::milliseconds(50), std::chrono::duration_cast<std::chrono::milliseconds>(
                                           until - std::chrono::steady_clock::now())));
  }
  return !(cancel && cancel->cancelled());
}

// Virtual-hosted addressing needs a bucket name that is a valid host label.
bool host_label(const std::string& bucket) {
  return bucket.find('.') == std::string::npos && bucket.find('_') == std::string::npos &&
         std::none_of(bucket.begin(), bucket.end(),
                      [](unsigned char c) { return std::isupper(c); });
}

}  // namespace

std::string etag_without_quotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

S3Session::S3Session(AwsSetup setup, S3Settings settings)
    : setup_(std::move(setup)), settings_(settings) {}

Result<std::shared_ptr<S3Session>> S3Session::connect(const AwsEnvironment& environment,
                                                      const S3Settings& settings) {
  HttpClient metadata;
  auto setup = resolve_aws_setup(environment, metadata, settings.cancel);
  if (!setup) return std::move(setup).error();
  return std::shared_ptr<S3Session>(new S3Session(std::move(*setup), settings));
}

std::string S3Session::region_of(const std::string& bucket) const {
  std::lock_guard lock(mutex_);
  auto it = bucket_regions_.find(bucket);
  return it == bucket_regions_.end() ? setup_.region : it->second;
}

// Path-style for an endpoint of the user's (S3-compatible servers), virtual-hosted for AWS.
std::string S3Session::url_of(const S3Request& request, const std::string& region) const {
  std::string url;
  const std::string key = uri_encode(request.key, true);
  if (!setup_.endpoint.empty()) {
    url = setup_.endpoint + "/" + uri_encode(request.bucket, false) + "/" + key;
  } else if (host_label(request.bucket)) {
    url = "https://" + request.bucket + ".s3." + region + ".amazonaws.com/" + key;
  } else {
    url =
        "https://s3." + region + ".amazonaws.com/" + uri_encode(request.bucket, false) + "/" + key;
  }
  if (!request.query.empty()) url += "?" + canonical_query(request.query);
  return url;
}

HttpResponse S3Session::send_once(const S3Request& request) {
  const std::string region = region_of(request.bucket);
  HttpRequest http;
  http.method = request.method;
  http.url = url_of(request, region);
  http.headers = request.headers;
  std::string payload_hash = request.payload_hash;
  if (payload_hash.empty())
    payload_hash =
        request.body.empty() ? std::string(kEmptyPayloadSha256) : sha256_hex(request.body);
  http.headers.push_back("x-amz-content-sha256: " + payload_hash);
  http.body = request.body;
  if (!setup_.credentials.session_token.empty())
    http.headers.push_back("x-amz-security-token: " + setup_.credentials.session_token);
  http.sign =
      SigV4Signing{region, setup_.credentials.access_key_id, setup_.credentials.secret_access_key};
  http.connect_timeout = settings_.connect_timeout;
  http.stall_timeout = settings_.stall_timeout;
  http.on_body = request.on_body;
  http.cancel = request.despite_cancel ? nullptr : settings_.cancel;
  return http_.perform(http);
}

Result<HttpResponse> S3Session::send(const std::function<S3Request()>& make_request,
                                     const std::string& what, const std::vector<long>& accepted) {
  bool followed_region = false;
  for (unsigned attempt = 0;; ++attempt) {
    const S3Request request = make_request();
    const CancelToken* cancel = request.despite_cancel ? nullptr : settings_.cancel;
    if (cancel && cancel->cancelled()) return Error::interrupted();
    HttpResponse response = send_once(request);
    if (cancel && cancel->cancelled()) return Error::interrupted();
    const bool ok = response.transport_error.empty() && !response.stopped &&
                    (response.status / 100 == 2 || std::find(accepted.begin(), accepted.end(),
                                                             response.status) != accepted.end());
    if (ok) return response;
    if (response.stopped) return Error::io(what + ": the transfer was stopped: " + response.body);
    const S3ErrorBody error = parse_s3_error(response.body);
    if (auto region = bucket_region_from(response, error);
        !region.empty() && !followed_region && region != region_of(request.bucket)) {
      std::lock_guard lock(mutex_);
      bucket_regions_[request.bucket] = region;
      followed_region = true;
      --attempt;  // following the bucket is no failed attempt
      continue;
    }
    if (is_retryable(response, error) && attempt + 1 < settings_.max_attempts) {
      if (!wait_unless_cancelled(backoff(attempt, settings_), cancel)) return Error::interrupted();
      continue;
    }
    Error failure = describe_s3_failure(
        response, error,
        {what, request.bucket, region_of(request.bucket), setup_.credentials.source});
    if (is_retryable(response, error)) {
      failure.message += " (after " + std::to_string(settings_.max_attempts) + " attempts)";
    }
    return failure;
  }
}

}  // namespace smpack
