#include "smpack/digest.h"

#include <openssl/evp.h>

#include <stdexcept>
#include <vector>

#include "io/file_io.h"

namespace smpack {

struct Hasher::Impl {
  struct CtxDeleter {
    void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
  };
  std::unique_ptr<EVP_MD_CTX, CtxDeleter> ctx{EVP_MD_CTX_new()};
  const EVP_MD* md = nullptr;

  void reset() {
    if (!ctx || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1) {
      throw std::runtime_error("OpenSSL digest initialisation failed");
    }
  }
};

Hasher::Hasher(HashAlgorithm algorithm) : impl_(std::make_unique<Impl>()) {
  impl_->md = algorithm == HashAlgorithm::sha256 ? EVP_sha256() : EVP_md5();
  impl_->reset();
}
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;
Hasher::~Hasher() = default;

void Hasher::update(std::span<const std::byte> bytes) {
  EVP_DigestUpdate(impl_->ctx.get(), bytes.data(), bytes.size());
}

std::string Hasher::finish_raw() {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(impl_->ctx.get(), digest, &length);
  impl_->reset();
  return std::string(reinterpret_cast<const char*>(digest), length);
}

std::string Hasher::finish_hex() {
  std::string raw = finish_raw();
  return to_hex(std::as_bytes(std::span(raw)));
}

std::string to_hex(std::span<const std::byte> bytes) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (std::byte b : bytes) {
    auto v = static_cast<unsigned>(b);
    out += kDigits[v >> 4];
    out += kDigits[v & 15];
  }
  return out;
}

std::string sha256_hex(std::string_view bytes) {
  Hasher hasher;
  hasher.update(bytes);
  return hasher.finish_hex();
}

Result<FileDigests> digest_bytes(const ByteSource& bytes, std::uint64_t part_size,
                                 const CancelToken* cancel, ProgressSink* progress) {
  FileDigests out;
  Hasher sha;
  Hasher part_md5(HashAlgorithm::md5);
  Hasher etag_md5(HashAlgorithm::md5);
  std::uint64_t in_part = 0;
  std::uint64_t parts = 0;
  const std::uint64_t total = bytes.size();
  auto hashed = stream_all(
      bytes,
      [&](std::span<const std::byte> chunk) -> Result<void> {
        sha.update(chunk);
        out.bytes += chunk.size();
        while (part_size > 0 && !chunk.empty()) {
          auto take =
              static_cast<std::size_t>(std::min<std::uint64_t>(chunk.size(), part_size - in_part));
          part_md5.update(chunk.first(take));
          chunk = chunk.subspan(take);
          in_part += take;
          if (in_part == part_size) {
            etag_md5.update(part_md5.finish_raw());
            ++parts;
            in_part = 0;
          }
        }
        if (progress) progress->update(out.bytes, total);
        return {};
      },
      cancel);
  if (!hashed) return std::move(hashed).error();
  out.sha256 = sha.finish_hex();
  if (part_size > 0) {
    if (in_part > 0 || parts == 0) {
      std::string last = part_md5.finish_raw();
      if (parts == 0) {
        out.s3_etag = to_hex(std::as_bytes(std::span(last)));
        return out;
      }
      etag_md5.update(last);
      ++parts;
    }
    out.s3_etag = etag_md5.finish_hex() + "-" + std::to_string(parts);
  }
  return out;
}

}  // namespace smpack
