#include "s3/http_client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cstring>
#include <ctime>

#include "s3/sigv4.h"
#include "util/ascii_text.h"

namespace smpack {
namespace {

constexpr std::size_t kKeptErrorBody = 64 << 10;

// curl_global_init is not thread-safe; the first client does it, once per process.
void init_curl_once() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

}  // namespace

struct HttpClient::Handle {
  CURL* curl = curl_easy_init();
  ~Handle() { curl_easy_cleanup(curl); }
};

std::string HttpResponse::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  return it == headers.end() ? std::string() : it->second;
}

HttpClient::HttpClient() {
  init_curl_once();
}
HttpClient::~HttpClient() = default;

std::unique_ptr<HttpClient::Handle> HttpClient::acquire() {
  std::lock_guard lock(mutex_);
  if (idle_.empty()) return std::make_unique<Handle>();
  auto handle = std::move(idle_.back());
  idle_.pop_back();
  return handle;
}

void HttpClient::release(std::unique_ptr<Handle> handle) {
  std::lock_guard lock(mutex_);
  idle_.push_back(std::move(handle));
}

namespace {

// What the callbacks of one transfer share.
struct Transfer {
  const HttpRequest& request;
  HttpResponse& response;
  CURL* curl;
  std::atomic<std::uint64_t>& bytes_received;
  const std::function<void(std::uint64_t)>& on_received;
};

std::size_t on_header(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::string_view line(data, size * count);
  if (line.starts_with("HTTP/")) {
    t.response.headers.clear();  // a new response (after 100 Continue or a redirect)
  } else if (auto colon = line.find(':'); colon != std::string_view::npos) {
    t.response.headers[ascii_lower(line.substr(0, colon))] =
        std::string(trim_space(line.substr(colon + 1)));
  }
  return size * count;
}

std::size_t on_data(char* data, std::size_t size, std::size_t count, void* user) {
  auto& t = *static_cast<Transfer*>(user);
  const std::size_t bytes = size * count;
  long status = 0;
  curl_easy_getinfo(t.curl, CURLINFO_RESPONSE_CODE, &status);
  const std::uint64_t total = t.bytes_received += bytes;
  if (t.on_received) t.on_received(total);
  if (status / 100 == 2 && t.request.on_body) {
    if (!t.request.on_body(std::span<const char>(data, bytes))) {
      t.response.stopped = true;
      return CURL_WRITEFUNC_ERROR;
    }
    return bytes;
  }
  const std::size_t room = kKeptErrorBody - std::min(kKeptErrorBody, t.response.body.size());
  if (status / 100 != 2) {
    t.response.body.append(data, std::min(room, bytes));
  } else {
    t.response.body.append(data, bytes);
  }
  return bytes;
}

std::size_t on_read(char* buffer, std::size_t size, std::size_t count, void* user) {
  auto& unsent = *static_cast<std::string_view*>(user);
  const std::size_t n = std::min(size * count, unsent.size());
  std::memcpy(buffer, unsent.data(), n);
  unsent.remove_prefix(n);
  return n;
}

int on_progress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto& t = *static_cast<Transfer*>(user);
  if (t.request.cancel && t.request.cancel->cancelled()) {
    t.response.stopped = true;
    return 1;
  }
  return 0;
}

long milliseconds(std::chrono::milliseconds ms) {
  return static_cast<long>(ms.count());
}

}  // namespace

HttpResponse HttpClient::perform(const HttpRequest& request) {
  HttpResponse response;
  auto handle = acquire();
  CURL* curl = handle->curl;
  curl_easy_reset(curl);  // keeps the connection cache
  Transfer transfer{request, response, curl, bytes_received_, on_received_};
  std::string_view unsent = request.body;  // what the read callback has still to give

  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  // The path is encoded already; curl must not squash "." or ".." segments of a key.
  curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(curl, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, milliseconds(request.connect_timeout));
  if (request.total_timeout.count() > 0)
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, milliseconds(request.total_timeout));
  // A stall: under one byte per second for the whole stall timeout.
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(curl, CURLOPT_LOW_SPEED_TIME,
                   std::max(1L, milliseconds(request.stall_timeout) / 1000));
  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method == "PUT") {
    // An upload through the read callback: curl 7.88 hashes a POSTFIELDS body for SigV4
    // even when x-amz-content-sha256 is given, a second SHA-256 of every part.
    curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
    curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(curl, CURLOPT_READDATA, &unsent);
    // 1 MiB per read and send rather than 64 KiB: a sixteenth of the calls per part.
    curl_easy_setopt(curl, CURLOPT_UPLOAD_BUFFERSIZE, 1L << 20);
    curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(unsent.size()));
  } else if (request.method == "POST") {
    curl_easy_setopt(curl, CURLOPT_POST, 1L);
    // Never NULL: curl would then read the body from stdin.
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.empty() ? "" : request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
                     static_cast<curl_off_t>(request.body.size()));
  } else if (request.method != "GET") {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  }

  curl_slist* headers = nullptr;
  for (const auto& h : request.headers) headers = curl_slist_append(headers, h.c_str());
  const bool own_signature = request.sign && curl_misorders(request.headers);
  if (own_signature) {
    for (const auto& h : sigv4_headers(*request.sign, request.method, request.url, request.headers,
                                       std::time(nullptr)))
      headers = curl_slist_append(headers, h.c_str());
  }
  // A body gets a stated type, or curl would send form-encoding's. No header is removed
  // ("Expect:"): curl 7.88's SigV4 signs such a removal as an empty header it never sends.
  if (request.method == "PUT" || request.method == "POST") {
    const bool typed =
        std::any_of(request.headers.begin(), request.headers.end(), [](const std::string& h) {
          return ascii_lower(h.substr(0, h.find(':'))) == "content-type";
        });
    if (!typed) headers = curl_slist_append(headers, "Content-Type: application/octet-stream");
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  std::string scope;
  if (request.sign && !own_signature) {
    scope = "aws:amz:" + request.sign->region + ":s3";
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, scope.c_str());
    curl_easy_setopt(curl, CURLOPT_USERNAME, request.sign->access_key_id.c_str());
    curl_easy_setopt(curl, CURLOPT_PASSWORD, request.sign->secret_access_key.c_str());
  }

  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
  curl_easy_setopt(curl, CURLOPT_XFERINFODATA, &transfer);
  curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &response.status);
  if (code != CURLE_OK && !response.stopped) {
    response.transport_error = curl_easy_strerror(code);
    // A connection that failed mid-way is not reused.
    handle = std::make_unique<Handle>();
  }
  release(std::move(handle));
  return response;
}

}  // namespace smpack
