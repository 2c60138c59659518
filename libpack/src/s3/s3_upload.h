// An archive written into S3 as a multipart upload, while it is being made: parts of
// part_bytes() go up on kept-open connections, several at once, as the writer fills
// them; bytes copied from an object of the same store become UploadPartCopy parts that
// S3 copies itself. Each uploaded part carries its CRC32C (x-amz-checksum-crc32c, the
// upload's checksum algorithm), which S3 verifies it against; the object's ETag is
// checked against the parts' ETags. Dropped uncommitted (an error,
// Ctrl-C), the upload is aborted, so no parts are left and the key keeps its old object.
// Memory: part_bytes() x (kPartsInFlight + 1).
#pragma once

#include <deque>
#include <future>
#include <memory>
#include <string>

#include "io/thread_pool.h"
#include "s3/s3_session.h"
#include "smpack/archive_output.h"

namespace smpack {

// A PutObject of `body` with x-amz-checksum-sha256, its ETag checked against the MD5.
Result<S3Put> put_checked_object(S3Session& session, const S3Url& url, const std::string& body);

class S3MultipartUpload final : public ArchiveOutput {
 public:
  static constexpr unsigned kPartsInFlight = 4;
  static constexpr std::uint64_t kMinPartBytes = 8ull << 20;  // S3's floor is 5 MiB
  static constexpr std::uint64_t kMinCopyPartBytes = 5ull << 20;
  static constexpr std::uint64_t kMaxPartBytes = 5ull << 30;
  static constexpr unsigned kMaxParts = 10'000;

  static Result<std::unique_ptr<S3MultipartUpload>> create(std::shared_ptr<S3Session> session,
                                                           const S3Url& url,
                                                           const ArchiveOutputOptions& options);
  ~S3MultipartUpload() override;

  const std::string& name() const override { return name_; }
  Result<void> write(std::span<const std::byte> bytes) override;
  Result<void> copy_from(const ByteSource& source, std::uint64_t offset, std::uint64_t length,
                         const CancelToken* cancel) override;
  Result<void> commit() override;
  std::string etag() const override { return etag_; }
  std::uint64_t part_bytes() const { return part_bytes_; }

 private:
  struct Part {
    unsigned number = 0;
    std::string etag;      // as S3 returned it, quoted
    std::string checksum;  // base64 CRC32C; "" for a copied part S3 gave none for
  };
  S3MultipartUpload(std::shared_ptr<S3Session> session, S3Url url, std::uint64_t part_bytes,
                    const CancelToken* cancel);
  // A request on this upload (uploadId added to `query`).
  S3Request upload_request(std::string method,
                           std::vector<std::pair<std::string, std::string>> query) const;
  Result<Part> upload_part(unsigned number, const std::string& data) const;
  Result<Part> copy_part(unsigned number, const S3Url& source, const std::string& if_match,
                         std::uint64_t first, std::uint64_t last) const;
  // Queues one part, waiting while kPartsInFlight are on the way.
  Result<void> submit(std::function<Result<Part>()> part);
  Result<void> collect_oldest();
  Result<void> flush();
  Result<void> next_part_number(unsigned& number);
  void abort() noexcept;

  std::shared_ptr<S3Session> session_;
  S3Url url_;
  std::string name_;
  std::string upload_id_;
  std::uint64_t part_bytes_;
  const CancelToken* cancel_;
  std::string buffer_;
  unsigned parts_started_ = 0;
  std::vector<Part> parts_;  // done, in any order
  std::deque<std::future<Result<Part>>> in_flight_;
  std::unique_ptr<ThreadPool> pool_;
  bool committed_ = false;
  std::string etag_;
};

}  // namespace smpack
