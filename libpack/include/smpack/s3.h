// Artifacts where they live: s3:// URLs, credentials and endpoints resolved as the AWS
// CLI resolves them, and a client that reads objects by byte range and lists prefixes.
// An object opened here is a ByteSource, so Artifact reads it as it reads a file.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/archive_output.h"
#include "smpack/byte_source.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

// True when `location` starts with s3://.
bool is_s3_url(std::string_view location);

// s3://bucket/key names an object; s3://bucket/prefix/ (trailing slash, or no key at all)
// names an uncompressed layout (S3ModelDataSource).
struct S3Url {
  std::string bucket;
  std::string key;

  bool names_prefix() const { return key.empty() || key.back() == '/'; }
  std::string text() const { return "s3://" + bucket + "/" + key; }
};

// usage error when `location` is no s3:// URL or names no valid bucket.
Result<S3Url> parse_s3_url(std::string_view location);

// The AWS_* variables (and HOME) the AWS CLI reads. The library reads no environment:
// its clients (CLI, Python, harness) take this snapshot and pass it in.
struct AwsEnvironment {
  std::map<std::string, std::string, std::less<>> variables;

  // nullopt when unset or empty.
  std::optional<std::string> get(std::string_view name) const;
  // The snapshot of this process's environment.
  static AwsEnvironment from_process();
};

struct S3Settings {
  // Attempts per request for throttling (503 SlowDown), 5xx and dropped connections,
  // with exponential backoff and full jitter between them.
  unsigned max_attempts = 5;
  std::chrono::milliseconds first_backoff{200};
  std::chrono::milliseconds max_backoff{5000};
  std::chrono::seconds connect_timeout{10};
  // A transfer that moves no byte for this long is dropped (and retried).
  std::chrono::seconds stall_timeout{30};
  // Polled between and during requests.
  const CancelToken* cancel = nullptr;
};

// One object of a listing.
struct S3Object {
  std::string key;
  std::uint64_t size = 0;
  std::string etag;  // without quotes
};

// What one PutObject stored.
struct S3Put {
  std::string etag;    // without quotes, checked against the body's MD5
  std::string sha256;  // hex, of the body: the checksum S3 verified
};

class S3Session;

// Thread-safe: an object's byte ranges are read from several threads at once, each
// on a kept-open connection.
class S3Client {
 public:
  // Finds credentials (environment, shared files and profile, container credentials,
  // the instance role through IMDSv2), the region and the endpoint. io error naming
  // what was tried when there are none; usage error for a profile that uses a
  // credential source smpack does not support.
  static Result<S3Client> connect(const AwsEnvironment& environment,
                                  const S3Settings& settings = {});
  // Copies share the connections and the counts.
  S3Client(const S3Client&);
  S3Client& operator=(const S3Client&);
  S3Client(S3Client&&) noexcept;
  S3Client& operator=(S3Client&&) noexcept;
  ~S3Client();

  // The object at `url`, read by ranged GETs that all carry If-Match with the ETag of
  // the first, so that an overwrite while reading is an error. io error for a missing
  // bucket or key (naming a prefix with the same name when one exists) or a refusal.
  Result<std::unique_ptr<ByteSource>> open_object(const S3Url& url) const;
  // The objects whose keys start with url.key, in key order; bad_input past max_keys.
  Result<std::vector<S3Object>> list(const S3Url& url, std::uint64_t max_keys) const;

  // A multipart upload into url (s3_upload.h): parts go up in parallel while the
  // caller writes; nothing appears at url unless it is committed.
  Result<std::unique_ptr<ArchiveOutput>> create_upload(const S3Url& url,
                                                       const ArchiveOutputOptions& options) const;

  // One PutObject of `body` with its SHA-256 checksum.
  Result<S3Put> put_object(const S3Url& url, const std::string& body) const;

  // Receives the bytes received so far (and 0 for an unknown total) as they arrive.
  void set_progress(ProgressSink* progress);

 private:
  explicit S3Client(std::shared_ptr<S3Session> session);
  std::shared_ptr<S3Session> session_;
};

}  // namespace smpack
