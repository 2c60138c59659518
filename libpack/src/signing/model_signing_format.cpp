#include "signing/model_signing_format.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "smpack/digest.h"
#include "smpack/member_path.h"
#include "util/base64.h"

namespace smpack {
namespace {

using Json = nlohmann::ordered_json;

constexpr std::string_view kStatementType = "https://in-toto.io/Statement/v1";
constexpr std::string_view kPredicateType = "https://model_signing/signature/v1.0";
constexpr std::string_view kPredicateTypeBefore1 = "https://model_signing/Digests/v0.1";

std::vector<std::string_view> components(std::string_view path) {
  std::vector<std::string_view> parts;
  while (!path.empty()) {
    const auto slash = path.find('/');
    parts.push_back(path.substr(0, slash));
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return parts;
}

// The SHA-256 over the files' raw digests, in order: the subject's digest.
std::string root_digest(const std::vector<SignedFile>& files) {
  Hasher root;
  for (const auto& file : files) {
    std::string raw;
    for (std::size_t i = 0; i + 1 < file.sha256.size(); i += 2)
      raw += static_cast<char>(std::stoi(file.sha256.substr(i, 2), nullptr, 16));
    root.update(raw);
  }
  return root.finish_hex();
}

bool is_sha256_hex(const std::string& text) {
  return text.size() == 64 && std::all_of(text.begin(), text.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

// A string field of `object`, or bad_input naming its path in the document.
Result<std::string> string_field(const Json& object, const char* key, const std::string& where,
                                 const std::string& path) {
  if (!object.is_object() || !object.contains(key) || !object[key].is_string())
    return Error::bad_input(where + ": the signature has no string " + path + "." + key);
  return object[key].get<std::string>();
}

}  // namespace

void sort_signed_files(std::vector<SignedFile>& files) {
  std::sort(files.begin(), files.end(), [](const SignedFile& a, const SignedFile& b) {
    return components(a.path) < components(b.path);
  });
}

std::optional<std::string> normalize_ignore_path(std::string_view path) {
  if (path.starts_with('/')) return std::nullopt;
  std::string normalized;
  for (std::string_view part : components(path)) {
    if (part.empty() || part == ".") continue;
    if (part == "..") return std::nullopt;
    normalized += (normalized.empty() ? "" : "/") + std::string(part);
  }
  return normalized;
}

bool is_under(std::string_view path, std::string_view ignored) {
  const auto a = components(path), b = components(ignored);
  return b.size() <= a.size() && std::equal(b.begin(), b.end(), a.begin());
}

std::string statement_json(const SignedStatement& statement) {
  Json resources = Json::array();
  for (const auto& file : statement.files)
    resources.push_back({{"name", file.path}, {"algorithm", "sha256"}, {"digest", file.sha256}});
  Json serialization = {{"method", "files"}, {"hash_type", "sha256"}, {"allow_symlinks", false}};
  if (!statement.ignore_paths.empty()) serialization["ignore_paths"] = statement.ignore_paths;
  const Json doc = {
      {"_type", kStatementType},
      {"subject", Json::array({{{"name", statement.model_name},
                                {"digest", {{"sha256", root_digest(statement.files)}}}}})},
      {"predicateType", kPredicateType},
      {"predicate", {{"serialization", serialization}, {"resources", resources}}}};
  return doc.dump(2);
}

std::string dsse_pae(std::string_view payload) {
  return "DSSEv1 " + std::to_string(kInTotoPayloadType.size()) + " " +
         std::string(kInTotoPayloadType) + " " + std::to_string(payload.size()) + " " +
         std::string(payload);
}

std::string bundle_json(std::string_view payload, std::string_view der_signature,
                        const std::string& key_hint) {
  const Json doc = {
      {"mediaType", kBundleMediaType},
      {"verificationMaterial",
       {{"publicKey", {{"hint", key_hint}}}, {"tlogEntries", Json::array()}}},
      {"dsseEnvelope",
       {{"payload", base64_encode(payload)},
        {"payloadType", kInTotoPayloadType},
        {"signatures", Json::array({{{"sig", base64_encode(der_signature)}, {"keyid", ""}}})}}}};
  return doc.dump(2) + "\n";
}

Result<ParsedBundle> parse_bundle(std::string_view json, const std::string& where) {
  const Json doc = Json::parse(json, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Error::bad_input(where + ": not a signature bundle (not a JSON object)");
  auto media = string_field(doc, "mediaType", where, "bundle");
  if (!media) return std::move(media).error();
  if (*media != kBundleMediaType) {
    return Error::bad_input(where + ": bundle media type '" + *media + "', not '" +
                            std::string(kBundleMediaType) + "' (model_signing's key bundles)");
  }
  const Json& material = doc.value("verificationMaterial", Json::object());
  if (material.contains("certificate") || material.contains("x509CertificateChain")) {
    return Error::bad_input(where +
                            ": a certificate-based bundle; smpack verifies bundles signed with a "
                            "key (`model_signing sign key`, `smpack sign`)");
  }
  if (!material.contains("publicKey") || !material["publicKey"].is_object())
    return Error::bad_input(where + ": the bundle has no verificationMaterial.publicKey");
  ParsedBundle bundle;
  const Json& hint = material["publicKey"].value("hint", Json(nullptr));
  if (hint.is_string()) bundle.key_hint = hint.get<std::string>();
  const Json& envelope = doc.value("dsseEnvelope", Json(nullptr));
  if (!envelope.is_object()) return Error::bad_input(where + ": the bundle has no dsseEnvelope");
  auto type = string_field(envelope, "payloadType", where, "dsseEnvelope");
  if (!type) return std::move(type).error();
  if (*type != kInTotoPayloadType) {
    return Error::bad_input(where + ": envelope payload type '" + *type + "', not '" +
                            std::string(kInTotoPayloadType) + "'");
  }
  auto payload = string_field(envelope, "payload", where, "dsseEnvelope");
  if (!payload) return std::move(payload).error();
  const Json& signatures = envelope.value("signatures", Json(nullptr));
  // model_signing checks the first signature only.
  if (!signatures.is_array() || signatures.empty())
    return Error::bad_input(where + ": the envelope holds no signature");
  auto signature = string_field(signatures[0], "sig", where, "dsseEnvelope.signatures[0]");
  if (!signature) return std::move(signature).error();
  auto decoded_payload = base64_decode(*payload);
  auto decoded_signature = base64_decode(*signature);
  if (!decoded_payload || !decoded_signature)
    return Error::bad_input(where + ": the envelope's payload or signature is not base64");
  bundle.payload = std::move(*decoded_payload);
  bundle.signature = std::move(*decoded_signature);
  return bundle;
}

Result<SignedStatement> parse_statement(std::string_view payload, const std::string& where) {
  const Json doc = Json::parse(payload, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return Error::bad_input(where + ": the signed payload is not a JSON statement");
  auto type = string_field(doc, "_type", where, "statement");
  if (!type) return std::move(type).error();
  if (*type != kStatementType)
    return Error::bad_input(where + ": statement type '" + *type + "', not in-toto Statement v1");
  auto predicate_type = string_field(doc, "predicateType", where, "statement");
  if (!predicate_type) return std::move(predicate_type).error();
  if (*predicate_type == kPredicateTypeBefore1) {
    return Error::bad_input(where +
                            ": a model_signing 0.2 signature (Digests/v0.1), which lists no "
                            "ignored paths; re-sign it with model_signing 1.x or smpack sign");
  }
  if (*predicate_type != kPredicateType) {
    return Error::bad_input(where + ": predicate type '" + *predicate_type + "', not '" +
                            std::string(kPredicateType) + "'");
  }
  const Json& subjects = doc.value("subject", Json(nullptr));
  if (!subjects.is_array() || subjects.size() != 1)
    return Error::bad_input(where + ": the statement must have exactly one subject");
  SignedStatement statement;
  auto name = string_field(subjects[0], "name", where, "subject[0]");
  if (!name) return std::move(name).error();
  statement.model_name = std::move(*name);
  auto subject_digest = string_field(subjects[0].value("digest", Json::object()), "sha256", where,
                                     "subject[0].digest");
  if (!subject_digest) return std::move(subject_digest).error();
  const Json& predicate = doc.value("predicate", Json(nullptr));
  const Json& serialization =
      predicate.is_object() ? predicate.value("serialization", Json(nullptr)) : Json(nullptr);
  auto method = string_field(serialization, "method", where, "predicate.serialization");
  if (!method) return std::move(method).error();
  auto hash_type = string_field(serialization, "hash_type", where, "predicate.serialization");
  if (!hash_type) return std::move(hash_type).error();
  if (*method != "files" || *hash_type != "sha256") {
    return Error::bad_input(where + ": serialized as '" + *method + "' with " + *hash_type +
                            "; smpack checks signatures of whole files hashed with sha256 "
                            "(model_signing's default)");
  }
  const Json& ignore_paths = serialization.value("ignore_paths", Json::array());
  if (!ignore_paths.is_array())
    return Error::bad_input(where + ": predicate.serialization.ignore_paths is not a list");
  for (const auto& ignored : ignore_paths) {
    if (!ignored.is_string())
      return Error::bad_input(where + ": predicate.serialization.ignore_paths holds a non-string");
    statement.ignore_paths.push_back(ignored.get<std::string>());
  }
  const Json& resources = predicate.value("resources", Json(nullptr));
  if (!resources.is_array())
    return Error::bad_input(where + ": the statement has no predicate.resources");
  for (const auto& resource : resources) {
    auto path = string_field(resource, "name", where, "predicate.resources[]");
    if (!path) return std::move(path).error();
    auto algorithm = string_field(resource, "algorithm", where, "predicate.resources[]");
    if (!algorithm) return std::move(algorithm).error();
    auto digest = string_field(resource, "digest", where, "predicate.resources[]");
    if (!digest) return std::move(digest).error();
    if (*algorithm != "sha256" || !is_sha256_hex(*digest)) {
      return Error::bad_input(where + ": resource '" + *path +
                              "' does not carry a hex sha256 digest");
    }
    const auto checked = check_member_path(*path);
    if (checked.problem != PathProblem::none || checked.normalized != *path) {
      return Error::bad_input(where + ": resource '" + *path +
                              "' is not a plain relative path inside the model");
    }
    statement.files.push_back({std::move(*path), std::move(*digest)});
  }
  if (root_digest(statement.files) != *subject_digest) {
    return Error::bad_input(where +
                            ": the subject's digest is not the digest of the listed resources "
                            "(an inconsistent statement)");
  }
  return statement;
}

}  // namespace smpack
