#include "s3/s3_upload.h"

#include <isa-l/crc.h>

#include <algorithm>
#include <pugixml.hpp>

#include "s3/s3_error.h"
#include "s3/s3_object_source.h"
#include "smpack/digest.h"
#include "util/base64.h"
#include "util/uri_encoding.h"

namespace smpack {
namespace {

std::string digest_of(HashAlgorithm algorithm, std::string_view data) {
  Hasher hasher(algorithm);
  hasher.update(data);
  return hasher.finish_raw();
}

// CRC32C (Castagnoli) as S3's x-amz-checksum-crc32c wants it: the big-endian CRC in
// base64. ISA-L's crc32_iscsi runs at ~12 GB/s, so the part checksum costs almost
// nothing next to compressing the part.
std::string crc32c_base64(std::string_view data) {
  unsigned state = 0xFFFFFFFFu;
  constexpr std::size_t kChunk = 1u << 30;  // crc32_iscsi takes an int length
  for (std::size_t at = 0; at < data.size(); at += kChunk) {
    const std::size_t n = std::min(kChunk, data.size() - at);
    state = crc32_iscsi(reinterpret_cast<unsigned char*>(const_cast<char*>(data.data() + at)),
                        static_cast<int>(n), state);
  }
  const unsigned crc = state ^ 0xFFFFFFFFu;
  const char raw[4] = {static_cast<char>(crc >> 24), static_cast<char>(crc >> 16),
                       static_cast<char>(crc >> 8), static_cast<char>(crc)};
  return base64_encode(std::string(raw, 4));
}

// The part size: at least kMinPartBytes, and large enough that the expected size fits
// in 9,000 parts (room for an estimate that was low), in whole MiB.
std::uint64_t part_size_for(std::uint64_t expected) {
  constexpr std::uint64_t kMiB = 1 << 20;
  const std::uint64_t needed = (expected / 9000 + kMiB - 1) / kMiB * kMiB;
  return std::clamp(needed, S3MultipartUpload::kMinPartBytes, S3MultipartUpload::kMaxPartBytes);
}

// S3 may answer 200 and still report an error in the body (CompleteMultipartUpload,
// UploadPartCopy): the document's root says which.
Result<pugi::xml_document> answer_document(const HttpResponse& response, const char* root,
                                           const std::string& what) {
  pugi::xml_document doc;
  if (!doc.load_buffer(response.body.data(), response.body.size()) || !doc.child(root)) {
    const S3ErrorBody error = parse_s3_error(response.body);
    return Error::io(what + ": S3 answered " +
                     (error.code.empty() ? "without a " + std::string(root)
                                         : error.code + ": " + error.message));
  }
  return doc;
}

// What S3 stored is what was sent: a single-part ETag is the MD5 of the bytes.
Result<void> check_etag(const std::string& what, const std::string& quoted_etag,
                        const std::string& data) {
  Hasher md5(HashAlgorithm::md5);
  md5.update(data);
  const std::string expected = md5.finish_hex();
  if (etag_without_quotes(quoted_etag) != expected) {
    return Error::io(what + ": S3 stored it with ETag " + quoted_etag +
                     ", not the MD5 of the bytes sent (" + expected + ")");
  }
  return {};
}

}  // namespace

Result<S3Put> put_checked_object(S3Session& session, const S3Url& url, const std::string& body) {
  const std::string what = url.text();
  const std::string sha256 = digest_of(HashAlgorithm::sha256, body);
  const std::string hex = to_hex(std::as_bytes(std::span(sha256.data(), sha256.size())));
  auto response = session.send(
      [&] {
        S3Request request;
        request.method = "PUT";
        request.bucket = url.bucket;
        request.key = url.key;
        request.headers = {"x-amz-checksum-sha256: " + base64_encode(sha256)};
        request.body = body;
        request.payload_hash = hex;
        return request;
      },
      what);
  if (!response) return std::move(response).error();
  const std::string etag = response->header("etag");
  if (auto r = check_etag(what, etag, body); !r) return std::move(r).error();
  return S3Put{etag_without_quotes(etag), hex};
}

S3MultipartUpload::S3MultipartUpload(std::shared_ptr<S3Session> session, S3Url url,
                                     std::uint64_t part_bytes, const CancelToken* cancel)
    : session_(std::move(session)),
      url_(std::move(url)),
      name_(url_.text()),
      part_bytes_(part_bytes),
      cancel_(cancel),
      pool_(std::make_unique<ThreadPool>(kPartsInFlight)) {}

Result<std::unique_ptr<S3MultipartUpload>> S3MultipartUpload::create(
    std::shared_ptr<S3Session> session, const S3Url& url, const ArchiveOutputOptions& options) {
  std::unique_ptr<S3MultipartUpload> upload(new S3MultipartUpload(
      std::move(session), url, part_size_for(options.expected_bytes), options.cancel));
  auto created = upload->session_->send(
      [&] {
        S3Request request;
        request.method = "POST";
        request.bucket = url.bucket;
        request.key = url.key;
        request.query = {{"uploads", ""}};
        request.headers = {"x-amz-checksum-algorithm: CRC32C"};
        return request;
      },
      upload->name_);
  if (!created) return std::move(created).error();
  auto doc = answer_document(*created, "InitiateMultipartUploadResult", upload->name_);
  if (!doc) return std::move(doc).error();
  upload->upload_id_ = doc->child("InitiateMultipartUploadResult").child_value("UploadId");
  if (upload->upload_id_.empty())
    return Error::io(upload->name_ + ": S3 started a multipart upload without an UploadId");
  return upload;
}

S3MultipartUpload::~S3MultipartUpload() {
  for (auto& part : in_flight_) part.wait();
  if (!committed_) abort();
}

S3Request S3MultipartUpload::upload_request(
    std::string method, std::vector<std::pair<std::string, std::string>> query) const {
  S3Request request;
  request.method = std::move(method);
  request.bucket = url_.bucket;
  request.key = url_.key;
  request.query = std::move(query);
  request.query.emplace_back("uploadId", upload_id_);
  return request;
}

void S3MultipartUpload::abort() noexcept {
  if (upload_id_.empty()) return;
  (void)session_->send(
      [&] {
        S3Request request = upload_request("DELETE", {});
        request.despite_cancel = true;
        return request;
      },
      name_);
}

Result<S3MultipartUpload::Part> S3MultipartUpload::upload_part(unsigned number,
                                                               const std::string& data) const {
  // The part's CRC32C is the checksum S3 verifies it against, and it is signed, so the
  // payload itself goes unsigned: a SHA-256 of every part would cost more CPU than
  // sending it. Its MD5 (the ETag) is left to S3.
  const std::string checksum = crc32c_base64(data);
  auto response = session_->send(
      [&] {
        S3Request request = upload_request("PUT", {{"partNumber", std::to_string(number)}});
        request.headers = {"x-amz-checksum-crc32c: " + checksum};
        request.body = data;
        request.payload_hash = kUnsignedPayload;
        return request;
      },
      name_);
  if (!response) return std::move(response).error();
  return Part{number, response->header("etag"), checksum};
}

Result<S3MultipartUpload::Part> S3MultipartUpload::copy_part(unsigned number, const S3Url& source,
                                                             const std::string& if_match,
                                                             std::uint64_t first,
                                                             std::uint64_t last) const {
  const std::string what = name_ + " (copying " + source.text() + ")";
  auto response = session_->send(
      [&] {
        S3Request request = upload_request("PUT", {{"partNumber", std::to_string(number)}});
        request.headers = {
            "x-amz-copy-source: /" + source.bucket + "/" + uri_encode(source.key, true),
            "x-amz-copy-source-range: bytes=" + std::to_string(first) + "-" + std::to_string(last),
            "x-amz-copy-source-if-match: " + if_match};
        return request;
      },
      what);
  if (!response) return std::move(response).error();
  auto doc = answer_document(*response, "CopyPartResult", what);
  if (!doc) return std::move(doc).error();
  const auto result = doc->child("CopyPartResult");
  return Part{number, result.child_value("ETag"), result.child_value("ChecksumCRC32C")};
}

Result<void> S3MultipartUpload::collect_oldest() {
  auto part = in_flight_.front().get();
  in_flight_.pop_front();
  if (!part) return std::move(part).error();
  parts_.push_back(std::move(*part));
  return {};
}

Result<void> S3MultipartUpload::next_part_number(unsigned& number) {
  if (parts_started_ >= kMaxParts) {
    return Error::io(name_ + ": more than S3's " + std::to_string(kMaxParts) + " parts of " +
                     std::to_string(part_bytes_) + " bytes");
  }
  number = ++parts_started_;
  // An archive larger than expected: later parts grow, so that the 10,000 still suffice.
  if (number % 1000 == 0) part_bytes_ = std::min(part_bytes_ * 2, kMaxPartBytes);
  return {};
}

Result<void> S3MultipartUpload::submit(std::function<Result<Part>()> part) {
  while (in_flight_.size() >= kPartsInFlight) {
    if (auto r = collect_oldest(); !r) return r;
  }
  if (cancel_ && cancel_->cancelled()) return Error::interrupted();
  in_flight_.push_back(pool_->submit(std::move(part)));
  return {};
}

Result<void> S3MultipartUpload::flush() {
  unsigned number = 0;
  if (auto r = next_part_number(number); !r) return r;
  return submit([this, number, data = std::move(buffer_)] { return upload_part(number, data); });
}

Result<void> S3MultipartUpload::write(std::span<const std::byte> bytes) {
  while (!bytes.empty()) {
    const std::size_t take =
        std::min<std::size_t>(bytes.size(), static_cast<std::size_t>(part_bytes_ - buffer_.size()));
    // Whole from the start: growing it by doubling would copy every part twice more.
    if (buffer_.capacity() < part_bytes_) buffer_.reserve(static_cast<std::size_t>(part_bytes_));
    buffer_.append(reinterpret_cast<const char*>(bytes.data()), take);
    bytes = bytes.subspan(take);
    if (buffer_.size() == part_bytes_) {
      if (auto r = flush(); !r) return r;
      buffer_.clear();
    }
  }
  return {};
}

Result<void> S3MultipartUpload::copy_from(const ByteSource& source, std::uint64_t offset,
                                          std::uint64_t length, const CancelToken* cancel) {
  const auto* object = dynamic_cast<const S3ObjectSource*>(&source);
  // Server-side only from a part boundary, and only in parts S3 accepts before others
  // (at least 5 MiB each); a smaller range is uploaded instead.
  if (!object || !object->read_through(*session_) || !buffer_.empty() ||
      length < kMinCopyPartBytes) {
    return ArchiveOutput::copy_from(source, offset, length, cancel);
  }
  const std::uint64_t pieces = (length + kMaxPartBytes - 1) / kMaxPartBytes;
  const std::uint64_t piece = (length + pieces - 1) / pieces;
  for (std::uint64_t first = offset; first < offset + length; first += piece) {
    const std::uint64_t last = std::min(first + piece, offset + length) - 1;
    unsigned number = 0;
    if (auto r = next_part_number(number); !r) return r;
    S3Url from = object->location();
    std::string if_match = object->quoted_etag();
    if (auto r = submit([this, number, from, if_match, first, last] {
          return copy_part(number, from, if_match, first, last);
        });
        !r)
      return r;
  }
  return {};
}

Result<void> S3MultipartUpload::commit() {
  if (!buffer_.empty() || parts_started_ == 0) {
    if (auto r = flush(); !r) return r;
    buffer_.clear();
  }
  while (!in_flight_.empty()) {
    if (auto r = collect_oldest(); !r) return r;
  }
  if (cancel_ && cancel_->cancelled()) return Error::interrupted();
  std::sort(parts_.begin(), parts_.end(),
            [](const Part& a, const Part& b) { return a.number < b.number; });
  std::string body = "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">";
  Hasher etag_md5(HashAlgorithm::md5);
  for (const Part& part : parts_) {
    body += "<Part><PartNumber>" + std::to_string(part.number) + "</PartNumber><ETag>" + part.etag +
            "</ETag>";
    if (!part.checksum.empty()) body += "<ChecksumCRC32C>" + part.checksum + "</ChecksumCRC32C>";
    body += "</Part>";
    std::string raw;
    const std::string hex = etag_without_quotes(part.etag);
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
      raw += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
    etag_md5.update(raw);
  }
  body += "</CompleteMultipartUpload>";
  const std::string expected = etag_md5.finish_hex() + "-" + std::to_string(parts_.size());
  auto response = session_->send(
      [&] {
        S3Request request = upload_request("POST", {});
        request.headers = {"Content-Type: application/xml"};
        request.body = body;
        return request;
      },
      name_);
  if (!response) return std::move(response).error();
  auto doc = answer_document(*response, "CompleteMultipartUploadResult", name_);
  if (!doc) return std::move(doc).error();
  committed_ = true;
  etag_ = etag_without_quotes(doc->child("CompleteMultipartUploadResult").child_value("ETag"));
  if (etag_ != expected) {
    return Error::io(name_ + ": S3 reports ETag " + etag_ + " for the object, not " + expected +
                     " of its parts");
  }
  return {};
}

}  // namespace smpack
