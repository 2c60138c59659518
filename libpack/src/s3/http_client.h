// HTTP/1.1 through libcurl: one request at a time per connection, connections kept
// open in a pool of easy handles so that concurrent readers each reuse one. SigV4 is
// curl's own (CURLOPT_AWS_SIGV4); the caller supplies what curl 7.88 does not
// (x-amz-content-sha256, an encoded path, a sorted query).
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "smpack/cancel.h"

namespace smpack {

struct SigV4Signing {
  std::string region;
  std::string access_key_id;
  std::string secret_access_key;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;                   // already encoded
  std::vector<std::string> headers;  // "name: value"
  std::string_view body;             // sent as is (PUT, POST); the caller keeps it alive
  std::optional<SigV4Signing> sign;
  std::chrono::milliseconds connect_timeout{10'000};
  std::chrono::milliseconds stall_timeout{30'000};  // no byte moved for this long
  std::chrono::milliseconds total_timeout{0};       // 0: none
  // When set, a 2xx body goes here piece by piece instead of into HttpResponse::body;
  // returning false stops the transfer (HttpResponse::stopped).
  std::function<bool(std::span<const char>)> on_body;
  const CancelToken* cancel = nullptr;
};

struct HttpResponse {
  long status = 0;                             // 0 when no response came
  std::map<std::string, std::string> headers;  // names in lower case
  std::string body;                            // error bodies are cut at 64 KiB
  std::string transport_error;                 // "" when a whole response came
  bool stopped = false;                        // on_body said stop, or cancelled

  std::string header(const std::string& lower_name) const;
};

class HttpClient {
 public:
  HttpClient();
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Thread-safe. A transport failure (refused, reset, timed out) is transport_error.
  HttpResponse perform(const HttpRequest& request);

  // Called with the total body bytes received so far, from the thread that received them.
  void set_on_received(std::function<void(std::uint64_t)> on_received) {
    on_received_ = std::move(on_received);
  }

 private:
  struct Handle;
  std::unique_ptr<Handle> acquire();
  void release(std::unique_ptr<Handle> handle);

  std::mutex mutex_;
  std::vector<std::unique_ptr<Handle>> idle_;
  std::atomic<std::uint64_t> bytes_received_{0};  // body bytes, for on_received
  std::function<void(std::uint64_t)> on_received_;
};

}  // namespace smpack
