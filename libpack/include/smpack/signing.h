// Signatures in OpenSSF model signing's format (PyPI `model-signing` 1.1, `sign key`):
// a Sigstore bundle (v0.3) holding a DSSE envelope over an in-toto Statement v1 whose
// predicate lists every regular file of the model with its SHA-256. smpack signs and
// verifies an archive, a directory or an S3 prefix as the directory it extracts to,
// so `model_signing verify` accepts the extracted directory and `smpack verify
// --signature` accepts an archive of a directory that model_signing signed.
// Elliptic-curve keys only (P-256, P-384, P-521, hashed with SHA-256/384/512).
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

// A PEM private key (PKCS#8 or SEC1, unencrypted). usage when the file cannot be read,
// bad_input when it holds no EC key on a supported curve.
class SigningKey {
 public:
  static Result<SigningKey> from_pem_file(const std::filesystem::path& path);
  SigningKey(SigningKey&&) noexcept;
  SigningKey& operator=(SigningKey&&) noexcept;
  ~SigningKey();

  // The DER ECDSA signature of `message`, hashed as the curve asks.
  Result<std::string> sign(std::string_view message) const;
  // The public key, PEM SubjectPublicKeyInfo with the point uncompressed (what
  // `verify --public-key` takes), and its hex SHA-256: the bundle's publicKey.hint.
  const std::string& public_key_pem() const;
  const std::string& public_key_hint() const;

 private:
  struct Impl;
  explicit SigningKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// A PEM public key (SubjectPublicKeyInfo).
class PublicKey {
 public:
  static Result<PublicKey> from_pem_file(const std::filesystem::path& path);
  PublicKey(PublicKey&&) noexcept;
  PublicKey& operator=(PublicKey&&) noexcept;
  ~PublicKey();

  bool verify(std::string_view message, std::string_view der_signature) const;
  const std::string& hint() const;

 private:
  struct Impl;
  explicit PublicKey(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// One signed file: its path in the model directory and the hex SHA-256 of its data.
struct SignedFile {
  std::string path;
  std::string sha256;
};

// The paths model_signing leaves out of a signature by default (git's), which it
// records in the bundle; a path is left out with everything under it.
std::vector<std::string> default_ignore_paths();

// The bundle (JSON text) signing `files` of the model named `model_name`; the files
// are put in model_signing's order here. ignore_paths are recorded as given.
Result<std::string> sign_files(const std::string& model_name, std::vector<SignedFile> files,
                               const std::vector<std::string>& ignore_paths, const SigningKey& key);

struct SignOptions {
  // Left out of the signature and recorded in it, relative to the model; with
  // default_ignore_paths() unless !ignore_git_paths (model_signing's
  // --no-ignore-git-paths).
  std::vector<std::string> ignore_paths;
  bool ignore_git_paths = true;
  // An smpack archive that smpack has just written (add-code --sign): its index's
  // digests, computed while writing, are signed without a pass over the data.
  bool from_index = false;
  const CancelToken* cancel = nullptr;
  ProgressSink* progress = nullptr;
};

// What a model is called in its signature: the last component of the location (a
// directory, a prefix, an archive), an archive's without .tar.gz, .tgz or .tar.
std::string model_name_of(std::string_view location);

// Signs the regular files of `manifest` with the digests it holds: for what was just
// written and hashed while writing (build --sign), or an smpack archive's index after
// add-code, so that signing costs no pass over the data.
Result<std::string> sign_manifest(const std::string& model_name, const Manifest& manifest,
                                  const std::vector<std::string>& ignore_paths,
                                  const SigningKey& key);

// What a bundle says it covers, read without checking the signature (info).
struct SignatureSummary {
  std::string model_name;
  std::string key_hint;
  std::uint64_t files = 0;
  // Against the artifact's digests: signed files missing or differing, files not signed.
  std::uint64_t missing = 0, changed = 0, extra = 0;
};
// bad_input for a bundle that is not model_signing's format. `manifest` holds the
// artifact's files with their SHA-256s (a file without one is not compared).
Result<SignatureSummary> summarize_signature(std::string_view bundle_json, const Manifest& manifest,
                                             const std::string& where);

// Signs every regular file of `artifact`, each hashed from its data (an smpack
// archive's tar stream decoded on all cores, never its index). bad_input for a
// member model_signing would refuse (a symlink, a device, an unsafe path) or that an
// extractor would not leave as the only file of its name.
Result<std::string> sign_artifact(const Artifact& artifact, const SigningKey& key,
                                  const SignOptions& options = {});

struct SignatureCheck {
  std::string artifact;
  bool ok = false;
  bool signature_valid = false;  // the key matches the hint and the signature verifies
  std::string model_name;        // as the bundle names it (not compared, as in model_signing)
  std::uint64_t files_signed = 0;
  std::uint64_t files_checked = 0;
  std::vector<std::string> ignore_paths;  // the bundle's, applied
  std::vector<std::string> missing;       // signed, not in the artifact
  std::vector<std::string> extra;         // in the artifact, not signed
  std::vector<std::string> changed;       // content differs
  std::vector<std::string> problems;      // every finding, one sentence each
};

// The ignored paths a signature records for `options`; usage for a path that is empty,
// ".", absolute or leaves the model.
Result<std::vector<std::string>> signing_ignore_paths(const SignOptions& options);

// Checks `bundle_json` against `key` and every file of `artifact`, each hashed from
// its data, leaving out the bundle's ignored paths and git's (as model_signing's verify). A bad
// signature or a key that is not the bundle's is a finding (ok false; the files are then not read);
// a bundle that is not model_signing's format is bad_input naming what is wrong.
Result<SignatureCheck> verify_signature(const Artifact& artifact, std::string_view bundle_json,
                                        const PublicKey& key, const CancelToken* cancel = nullptr,
                                        ProgressSink* progress = nullptr);

// {"artifact", "ok", "signature_valid", "model_name", "files_signed", "files_checked",
//  "ignore_paths", "missing", "extra", "changed", "problems"} (docs/cli.md).
std::string signature_check_json(const SignatureCheck& check);

// Where a signature goes by default: beside the artifact, its name plus ".sig"
// ("model.tar.gz.sig", "model.sig" for a directory "model/").
std::string default_signature_path(const std::string& artifact);

}  // namespace smpack
