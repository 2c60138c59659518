// EC keys through OpenSSL's EVP interface: PEM in, DER ECDSA signatures out, hashed
// with SHA-256, -384 or -512 by the curve's size, as model_signing pairs them.
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>
#include <sstream>

#include "smpack/digest.h"
#include "smpack/signing.h"

namespace smpack {
namespace {

struct PkeyDeleter {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyDeleter>;

Result<std::string> read_key_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error::usage(path.string() + ": cannot read the key file");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Never a terminal prompt for a pass phrase: an encrypted key is refused instead.
int no_passphrase(char*, int, int, void*) {
  return -1;
}

// The digest model_signing uses for the key's curve; nullptr for a curve it refuses.
const EVP_MD* digest_for(EVP_PKEY* key) {
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_EC) return nullptr;
  char curve[64] = {};
  std::size_t length = 0;
  if (EVP_PKEY_get_utf8_string_param(key, "group", curve, sizeof curve, &length) != 1)
    return nullptr;
  const std::string name(curve, length);
  if (name == "prime256v1" || name == "P-256") return EVP_sha256();
  if (name == "secp384r1" || name == "P-384") return EVP_sha384();
  if (name == "secp521r1" || name == "P-521") return EVP_sha512();
  return nullptr;
}

// The public key as PEM SubjectPublicKeyInfo with the point uncompressed, as Python's
// cryptography writes it whatever the key file held: its SHA-256 is the bundle's key
// hint. Empty if OpenSSL fails.
std::string public_pem(EVP_PKEY* key) {
  Pkey copy(EVP_PKEY_dup(key));
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (copy && bio &&
      EVP_PKEY_set_utf8_string_param(copy.get(), OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT,
                                     OSSL_PKEY_EC_POINT_CONVERSION_FORMAT_UNCOMPRESSED) == 1 &&
      PEM_write_bio_PUBKEY(bio, copy.get()) == 1) {
    char* data = nullptr;
    const long n = BIO_get_mem_data(bio, &data);
    if (n > 0) pem.assign(data, static_cast<std::size_t>(n));
  }
  BIO_free(bio);
  return pem;
}

Result<Pkey> parse_key(const std::filesystem::path& path, bool private_key) {
  auto text = read_key_file(path);
  if (!text) return std::move(text).error();
  BIO* bio = BIO_new_mem_buf(text->data(), static_cast<int>(text->size()));
  if (!bio) return Error::internal("OpenSSL could not read " + path.string());
  Pkey key(private_key ? PEM_read_bio_PrivateKey(bio, nullptr, no_passphrase, nullptr)
                       : PEM_read_bio_PUBKEY(bio, nullptr, no_passphrase, nullptr));
  BIO_free(bio);
  const char* kind = private_key ? "private" : "public";
  if (!key) {
    return Error::bad_input(path.string() + ": not a PEM " + std::string(kind) + " key" +
                            (private_key ? " (or an encrypted one: decrypt it first)" : ""));
  }
  if (!digest_for(key.get())) {
    return Error::bad_input(path.string() +
                            ": model signing keys are elliptic-curve keys on P-256, P-384 or "
                            "P-521; this one is not");
  }
  return key;
}

// A key read from a PEM file, with its public PEM and the hint model signing uses.
struct KeyMaterial {
  Pkey key;
  std::string pem;
  std::string hint;
};

Result<KeyMaterial> load_key(const std::filesystem::path& path, bool private_key) {
  auto key = parse_key(path, private_key);
  if (!key) return std::move(key).error();
  KeyMaterial material;
  material.pem = public_pem(key->get());
  if (material.pem.empty())
    return Error::internal(path.string() + ": OpenSSL could not write its public key");
  material.hint = sha256_hex(material.pem);
  material.key = std::move(*key);
  return material;
}

}  // namespace

struct SigningKey::Impl : KeyMaterial {};

SigningKey::SigningKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SigningKey::SigningKey(SigningKey&&) noexcept = default;
SigningKey& SigningKey::operator=(SigningKey&&) noexcept = default;
SigningKey::~SigningKey() = default;

Result<SigningKey> SigningKey::from_pem_file(const std::filesystem::path& path) {
  auto material = load_key(path, true);
  if (!material) return std::move(material).error();
  return SigningKey(std::make_unique<Impl>(Impl{std::move(*material)}));
}

Result<std::string> SigningKey::sign(std::string_view message) const {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  std::size_t length = 0;
  std::string signature;
  bool ok =
      context &&
      EVP_DigestSignInit(context, nullptr, digest_for(impl_->key.get()), nullptr,
                         impl_->key.get()) == 1 &&
      EVP_DigestSign(context, nullptr, &length,
                     reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  if (ok) {
    signature.resize(length);
    ok =
        EVP_DigestSign(context, reinterpret_cast<unsigned char*>(signature.data()), &length,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    signature.resize(length);
  }
  EVP_MD_CTX_free(context);
  if (!ok) return Error::internal("OpenSSL could not sign with the key");
  return signature;
}

const std::string& SigningKey::public_key_pem() const {
  return impl_->pem;
}

const std::string& SigningKey::public_key_hint() const {
  return impl_->hint;
}

struct PublicKey::Impl : KeyMaterial {};

PublicKey::PublicKey(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
PublicKey::PublicKey(PublicKey&&) noexcept = default;
PublicKey& PublicKey::operator=(PublicKey&&) noexcept = default;
PublicKey::~PublicKey() = default;

Result<PublicKey> PublicKey::from_pem_file(const std::filesystem::path& path) {
  auto material = load_key(path, false);
  if (!material) return std::move(material).error();
  return PublicKey(std::make_unique<Impl>(Impl{std::move(*material)}));
}

bool PublicKey::verify(std::string_view message, std::string_view der_signature) const {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  const bool ok =
      context &&
      EVP_DigestVerifyInit(context, nullptr, digest_for(impl_->key.get()), nullptr,
                           impl_->key.get()) == 1 &&
      EVP_DigestVerify(context, reinterpret_cast<const unsigned char*>(der_signature.data()),
                       der_signature.size(), reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) == 1;
  EVP_MD_CTX_free(context);
  return ok;
}

const std::string& PublicKey::hint() const {
  return impl_->hint;
}

}  // namespace smpack
