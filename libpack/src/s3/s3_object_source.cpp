#include "s3/s3_object_source.h"

#include <algorithm>
#include <cstring>

#include "s3/s3_error.h"
#include "s3/s3_listing.h"

namespace smpack {
namespace {

constexpr std::uint64_t kTailBytes = 64 << 10;
constexpr std::uint64_t kMinimumRead = 256 << 10;   // a small read is widened to this
constexpr std::uint64_t kMaximumWindow = 16 << 20;  // sequential reads grow up to this
constexpr std::uint64_t kCacheBytes = 64 << 20;     // what the cache holds at most
constexpr std::uint64_t kUncachedRead = 16 << 20;   // reads this large go straight out

std::string range_header(std::uint64_t first, std::uint64_t last) {
  return "Range: bytes=" + std::to_string(first) + "-" + std::to_string(last);
}

// "bytes 0-99/1234" -> {0, 99, 1234}.
bool parse_content_range(const std::string& text, std::uint64_t& first, std::uint64_t& last,
                         std::uint64_t& total) {
  unsigned long long a = 0, b = 0, n = 0;
  if (std::sscanf(text.c_str(), "bytes %llu-%llu/%llu", &a, &b, &n) != 3 || b < a || b >= n)
    return false;
  first = a;
  last = b;
  total = n;
  return true;
}

}  // namespace

S3ObjectSource::S3ObjectSource(std::shared_ptr<S3Session> session, S3Url location)
    : session_(std::move(session)), location_(std::move(location)), url_(location_.text()) {}

Result<std::unique_ptr<S3ObjectSource>> S3ObjectSource::open(std::shared_ptr<S3Session> session,
                                                             const S3Url& url) {
  std::unique_ptr<S3ObjectSource> source(new S3ObjectSource(std::move(session), url));
  std::string body;
  // 416: an empty object has no last bytes.
  auto tail = source->session_->send(
      [&] {
        body.clear();
        S3Request request;
        request.bucket = url.bucket;
        request.key = url.key;
        request.headers.push_back("Range: bytes=-" + std::to_string(kTailBytes));
        return request;
      },
      source->url_, {404, 416});
  if (!tail) return std::move(tail).error();
  if (tail->status == 404) return source->missing(*tail);
  source->quoted_etag_ = tail->header("etag");
  source->etag_ = etag_without_quotes(source->quoted_etag_);
  if (tail->status == 416) {
    source->size_ = 0;  // S3 refuses any range of an empty object
    return source;
  }
  std::uint64_t first = 0, last = 0, total = 0;
  if (tail->status == 206) {
    if (!parse_content_range(tail->header("content-range"), first, last, total) ||
        tail->body.size() != last - first + 1) {
      return Error::io(source->url_ +
                       ": S3 answered a range request with a malformed "
                       "Content-Range '" +
                       tail->header("content-range") + "'");
    }
  } else {
    total = tail->body.size();  // 200: the server sent the whole object
  }
  source->size_ = total;
  if (!tail->body.empty()) {
    const auto* data = reinterpret_cast<const std::byte*>(tail->body.data());
    source->remember(first, std::vector<std::byte>(data, data + tail->body.size()));
  }
  return source;
}

std::size_t S3ObjectSource::from_cache(std::uint64_t offset, std::span<std::byte> out) const {
  std::size_t copied = 0;
  while (copied < out.size()) {
    const std::uint64_t at = offset + copied;
    auto it = cache_.upper_bound(at);
    if (it == cache_.begin()) break;
    --it;
    Block& block = it->second;
    const std::uint64_t end = it->first + block.bytes.size();
    if (at >= end) break;
    const std::size_t n =
        static_cast<std::size_t>(std::min<std::uint64_t>(end - at, out.size() - copied));
    std::memcpy(out.data() + copied, block.bytes.data() + (at - it->first), n);
    block.last_use = ++uses_;
    copied += n;
  }
  return copied;
}

void S3ObjectSource::remember(std::uint64_t offset, std::vector<std::byte> bytes) const {
  std::lock_guard lock(mutex_);
  cached_bytes_ += bytes.size();
  auto [it, inserted] = cache_.try_emplace(offset);
  if (!inserted) cached_bytes_ -= it->second.bytes.size();
  it->second = Block{std::move(bytes), ++uses_};
  while (cached_bytes_ > kCacheBytes && cache_.size() > 1) {
    auto oldest = std::min_element(cache_.begin(), cache_.end(), [](const auto& a, const auto& b) {
      return a.second.last_use < b.second.last_use;
    });
    cached_bytes_ -= oldest->second.bytes.size();
    cache_.erase(oldest);
  }
}

Error S3ObjectSource::missing(const HttpResponse& response) const {
  const S3ErrorBody error = parse_s3_error(response.body);
  // s3://bucket/name where only s3://bucket/name/... exist: the user meant the layout.
  if (error.code != "NoSuchBucket" && !location_.names_prefix()) {
    auto under = list_objects(*session_, S3Url{location_.bucket, location_.key + "/"}, 1);
    if (under && !under->objects.empty()) {
      return Error::io(url_ + ": no such object, but keys exist under " + url_ +
                       "/ (an uncompressed layout): add the trailing slash");
    }
  }
  const auto& setup = session_->setup();
  return describe_s3_failure(response, error,
                             {url_, location_.bucket, setup.region, setup.credentials.source});
}

Result<void> S3ObjectSource::fetch(std::uint64_t offset, std::span<std::byte> out) const {
  std::size_t received = 0;
  auto response = session_->send(
      [&] {
        S3Request request;
        request.bucket = location_.bucket;
        request.key = location_.key;
        request.headers.push_back(range_header(offset + received, offset + out.size() - 1));
        if (!quoted_etag_.empty()) request.headers.push_back("If-Match: " + quoted_etag_);
        request.on_body = [&](std::span<const char> piece) {
          if (piece.size() > out.size() - received) return false;  // more than was asked for
          std::memcpy(out.data() + received, piece.data(), piece.size());
          received += piece.size();
          return true;
        };
        return request;
      },
      url_);
  if (!response) return std::move(response).error();
  if (received != out.size()) {
    return Error::io(url_ + ": S3 sent " + std::to_string(received) + " of the " +
                     std::to_string(out.size()) + " bytes asked for at offset " +
                     std::to_string(offset));
  }
  return {};
}

Result<void> S3ObjectSource::read_at(std::uint64_t offset, std::span<std::byte> out) const {
  if (offset > size_ || out.size() > size_ - offset) {
    return Error::bad_input(url_ + ": bytes " + std::to_string(offset) + "+" +
                            std::to_string(out.size()) + " are not available (the object has " +
                            std::to_string(size_) + ")");
  }
  std::uint64_t start = 0, length = 0;
  {
    std::lock_guard lock(mutex_);
    const std::size_t cached = from_cache(offset, out);
    if (cached == out.size()) return {};
    out = out.subspan(cached);
    offset += cached;
    if (out.size() >= kUncachedRead) {
      sequential_end_ = offset + out.size();
    } else {
      // Widen: at least kMinimumRead, and a read that continues the last widened one
      // doubles the window, as a stream of reads front to back does.
      window_ = offset == sequential_end_
                    ? std::min(std::max(window_ * 2, kMinimumRead), kMaximumWindow)
                    : kMinimumRead;
      start = offset;
      length = std::min(std::max<std::uint64_t>(out.size(), window_), size_ - offset);
      sequential_end_ = start + length;
    }
  }
  if (length == 0) return fetch(offset, out);
  std::vector<std::byte> block(length);
  if (auto fetched = fetch(start, block); !fetched) return fetched;
  std::memcpy(out.data(), block.data(), out.size());
  remember(start, std::move(block));
  return {};
}

}  // namespace smpack
