// Hashes through OpenSSL's EVP interface (SHA-NI where the CPU has it), and the
// S3 multipart ETag a user can compare with what S3 reports after an upload.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "smpack/byte_source.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

enum class HashAlgorithm { sha256, md5 };

// Incremental hash. Movable; not thread-safe.
class Hasher {
 public:
  explicit Hasher(HashAlgorithm algorithm = HashAlgorithm::sha256);
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  ~Hasher();

  void update(std::span<const std::byte> bytes);
  void update(std::string_view bytes) { update(std::as_bytes(std::span(bytes))); }
  // Lower-case hex of the digest; the hasher is reset and may be reused.
  std::string finish_hex();
  // Raw digest bytes (32 for SHA-256, 16 for MD5); resets like finish_hex.
  std::string finish_raw();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

std::string sha256_hex(std::string_view bytes);
std::string to_hex(std::span<const std::byte> bytes);

struct FileDigests {
  std::uint64_t bytes = 0;
  std::string sha256;
  std::string s3_etag;  // empty unless a part size was given
};

// One pass over an archive's bytes: SHA-256 and, when part_size > 0, the ETag S3 gives an
// object uploaded in parts of part_size bytes (MD5 of the parts' MD5s, "-N").
// A file no larger than one part is uploaded whole by the AWS CLI and SDKs, so
// its ETag is the plain MD5. io on read failure, interrupted if cancelled.
Result<FileDigests> digest_bytes(const ByteSource& bytes, std::uint64_t part_size,
                                 const CancelToken* cancel = nullptr,
                                 ProgressSink* progress = nullptr);

}  // namespace smpack
