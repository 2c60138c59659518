#include "s3/s3_listing.h"
#include "s3/s3_object_source.h"
#include "s3/s3_session.h"
#include "s3/s3_upload.h"
#include "smpack/s3.h"

namespace smpack {

S3Client::S3Client(std::shared_ptr<S3Session> session) : session_(std::move(session)) {}
S3Client::S3Client(const S3Client&) = default;
S3Client& S3Client::operator=(const S3Client&) = default;
S3Client::S3Client(S3Client&&) noexcept = default;
S3Client& S3Client::operator=(S3Client&&) noexcept = default;
S3Client::~S3Client() = default;

Result<S3Client> S3Client::connect(const AwsEnvironment& environment, const S3Settings& settings) {
  auto session = S3Session::connect(environment, settings);
  if (!session) return std::move(session).error();
  return S3Client(std::move(*session));
}

Result<std::unique_ptr<ByteSource>> S3Client::open_object(const S3Url& url) const {
  auto source = S3ObjectSource::open(session_, url);
  if (!source) return std::move(source).error();
  return std::unique_ptr<ByteSource>(std::move(*source));
}

Result<std::vector<S3Object>> S3Client::list(const S3Url& url, std::uint64_t max_keys) const {
  auto listing = list_objects(*session_, url, max_keys);
  if (!listing) return std::move(listing).error();
  if (listing->truncated) {
    return Error::bad_input(url.text() + ": more than " + std::to_string(max_keys) + " objects");
  }
  return std::move(listing->objects);
}

Result<std::unique_ptr<ArchiveOutput>> S3Client::create_upload(
    const S3Url& url, const ArchiveOutputOptions& options) const {
  auto upload = S3MultipartUpload::create(session_, url, options);
  if (!upload) return std::move(upload).error();
  return std::unique_ptr<ArchiveOutput>(std::move(*upload));
}

Result<S3Put> S3Client::put_object(const S3Url& url, const std::string& body) const {
  return put_checked_object(*session_, url, body);
}

void S3Client::set_progress(ProgressSink* progress) {
  session_->http().set_on_received(
      progress ? std::function<void(std::uint64_t)>(
                     [progress](std::uint64_t total) { progress->update(total, 0); })
               : std::function<void(std::uint64_t)>());
}

}  // namespace smpack
