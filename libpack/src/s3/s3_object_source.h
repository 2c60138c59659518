// One S3 object as a ByteSource. The first request reads the object's last 64 KiB
// (where an smpack archive keeps its index) and learns its size and ETag; every later
// ranged GET carries If-Match with that ETag. Small reads are widened and kept in a
// bounded cache, so nearby reads (a trailer, then the index, then small members)
// become one request; reads that follow each other widen the window, so streaming a
// foreign archive is a few large GETs. Thread-safe.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "s3/s3_session.h"
#include "smpack/byte_source.h"

namespace smpack {

class S3ObjectSource final : public ByteSource {
 public:
  static Result<std::unique_ptr<S3ObjectSource>> open(std::shared_ptr<S3Session> session,
                                                      const S3Url& url);

  std::uint64_t size() const override { return size_; }
  std::uint64_t held_from(std::uint64_t offset) const override {
    return offset < size_ ? size_ - offset : 0;
  }
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override;
  bool reads_at_random_cheaply() const override { return false; }

  const std::string& etag() const { return etag_; }  // without quotes
  const std::string& quoted_etag() const { return quoted_etag_; }
  const S3Url& location() const { return location_; }
  // Whether `session` reads this object's store (a copy can then be made server-side).
  bool read_through(const S3Session& session) const { return session_.get() == &session; }

 private:
  S3ObjectSource(std::shared_ptr<S3Session> session, S3Url location);
  // GET [offset, offset + out.size()) into out, resuming after a dropped connection.
  Result<void> fetch(std::uint64_t offset, std::span<std::byte> out) const;
  // The error for a 404: no bucket, no key, or a key that is a prefix.
  Error missing(const HttpResponse& response) const;
  // Copies what the cache holds from `offset` on into out; the bytes copied.
  std::size_t from_cache(std::uint64_t offset, std::span<std::byte> out) const;
  void remember(std::uint64_t offset, std::vector<std::byte> bytes) const;

  std::shared_ptr<S3Session> session_;
  S3Url location_;
  std::string url_;
  std::uint64_t size_ = 0;
  std::string etag_;         // without quotes
  std::string quoted_etag_;  // as S3 sent it, for If-Match

  struct Block {
    std::vector<std::byte> bytes;
    std::uint64_t last_use = 0;
  };
  mutable std::mutex mutex_;
  mutable std::map<std::uint64_t, Block> cache_;  // by offset
  mutable std::uint64_t cached_bytes_ = 0;
  mutable std::uint64_t uses_ = 0;
  mutable std::uint64_t sequential_end_ = 0;  // where the last widened read ended
  mutable std::uint64_t window_ = 0;          // the next sequential read's size
};

}  // namespace smpack
