// The bytes of OpenSSF model signing's format, as model-signing 1.1.1 writes and reads
// them: the in-toto Statement listing the files, the DSSE envelope that signs it, and
// the Sigstore bundle that carries the envelope and the key's hint.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "smpack/result.h"
#include "smpack/signing.h"

namespace smpack {

inline constexpr std::string_view kBundleMediaType =
    "application/vnd.dev.sigstore.bundle.v0.3+json";
inline constexpr std::string_view kInTotoPayloadType = "application/vnd.in-toto+json";

struct SignedStatement {
  std::string model_name;
  std::vector<SignedFile> files;  // in model_signing's order
  std::vector<std::string> ignore_paths;
};

// model_signing's order: paths compared component by component, as PurePosixPath
// compares them ("a/b" < "a-b" < "a.txt").
void sort_signed_files(std::vector<SignedFile>& files);
// True when `path` is `ignored` or lies under it.
bool is_under(std::string_view path, std::string_view ignored);
// An ignore path as pathlib reads it under the model ("./a//b" -> "a/b"; "" or "." ->
// "", the model itself); nullopt for one that can match nothing there (absolute, or
// with "..", which model_signing joins without resolving).
std::optional<std::string> normalize_ignore_path(std::string_view path);

// The Statement: subject (the model's name, and the SHA-256 over the files' raw
// digests in order), predicate "https://model_signing/signature/v1.0" with the
// serialization ("files", sha256, no symlinks, the ignore paths) and one resource per file.
std::string statement_json(const SignedStatement& statement);
// DSSE's pre-authentication encoding of an in-toto payload: what the key signs.
std::string dsse_pae(std::string_view payload);
std::string bundle_json(std::string_view payload, std::string_view der_signature,
                        const std::string& key_hint);

struct ParsedBundle {
  std::string payload;    // decoded
  std::string signature;  // DER, decoded
  std::string key_hint;   // "" when the bundle has none (model_signing before 1.0)
};
// bad_input naming what is missing or malformed; `where` names the bundle's file.
Result<ParsedBundle> parse_bundle(std::string_view json, const std::string& where);
// bad_input for a statement model_signing would refuse, or one smpack cannot check
// (a serialization other than files/sha256), naming which.
Result<SignedStatement> parse_statement(std::string_view payload, const std::string& where);

}  // namespace smpack
