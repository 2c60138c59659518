// Signing and verifying an artifact as the directory it extracts to.
#include <map>
#include <nlohmann/json.hpp>

#include "signing/model_signing_format.h"
#include "smpack/signing.h"
#include "util/json_text.h"

namespace smpack {
namespace {

bool ignored(std::string_view path, const std::vector<std::string>& ignore_paths) {
  for (const auto& p : ignore_paths) {
    if (is_under(path, p)) return true;
  }
  return false;
}

// Every regular file the artifact extracts to, with the SHA-256 of its data, minus the
// ignored paths: what model_signing hashes in the extracted directory.
Result<std::map<std::string, std::string>> files_of(const Artifact& artifact,
                                                    const std::vector<std::string>& ignore_paths,
                                                    const CancelToken* cancel,
                                                    ProgressSink* progress) {
  VisitOptions visit;
  visit.keep_content = nullptr;
  visit.hash_members = true;
  visit.hash_from_data = true;
  visit.cancel = cancel;
  visit.progress = progress;
  auto tree = artifact.visit(visit);
  if (!tree) return std::move(tree).error();
  std::map<std::string, std::string> files;
  for (const Member& m : tree->members) {
    if (m.path_problem == PathProblem::root_member) continue;
    const std::string where = artifact.name() + ": member '" + m.stored_path + "'";
    if (m.path_problem != PathProblem::none)
      return Error::bad_input(where + " has an unsafe path; an extractor would not write it");
    if (ignored(m.path, ignore_paths) || m.type == EntryType::directory) continue;
    if (m.type == EntryType::symlink) {
      return Error::bad_input(where +
                              " is a symlink; model signing refuses symlinks (store the file "
                              "itself: `smpack build --follow-symlinks`)");
    }
    if (m.type != EntryType::file) {
      return Error::bad_input(where + " is a " + std::string(name_of(m.type)) +
                              ", which model signing cannot sign; only files and directories");
    }
    files[m.path] = m.sha256;  // an extractor leaves the last copy of a path
  }
  return files;
}

}  // namespace

std::vector<std::string> default_ignore_paths() {
  return {".git", ".gitattributes", ".github", ".gitignore"};
}

std::string model_name_of(std::string_view location) {
  std::string name(location);
  while (name.size() > 1 && name.back() == '/') name.pop_back();
  name = name.substr(name.rfind('/') == std::string::npos ? 0 : name.rfind('/') + 1);
  for (std::string_view suffix : {".tar.gz", ".tgz", ".tar"}) {
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return name.substr(0, name.size() - suffix.size());
  }
  return name;
}

std::string default_signature_path(const std::string& artifact) {
  std::string base = artifact;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  return base + ".sig";
}

Result<std::string> sign_files(const std::string& model_name, std::vector<SignedFile> files,
                               const std::vector<std::string>& ignore_paths,
                               const SigningKey& key) {
  SignedStatement statement{model_name, std::move(files), ignore_paths};
  sort_signed_files(statement.files);
  const std::string payload = statement_json(statement);
  auto signature = key.sign(dsse_pae(payload));
  if (!signature) return std::move(signature).error();
  return bundle_json(payload, *signature, key.public_key_hint());
}

Result<std::string> sign_artifact(const Artifact& artifact, const SigningKey& key,
                                  const SignOptions& options) {
  if (options.from_index && artifact.index()) {
    auto manifest = artifact.manifest(options.cancel);
    if (!manifest) return std::move(manifest).error();
    return sign_manifest(model_name_of(artifact.name()), *manifest, key);
  }
  const auto ignore_paths =
      options.ignore_paths.empty() ? default_ignore_paths() : options.ignore_paths;
  auto files = files_of(artifact, ignore_paths, options.cancel, options.progress);
  if (!files) return std::move(files).error();
  std::vector<SignedFile> signed_files;
  for (auto& [path, sha256] : *files) signed_files.push_back({path, sha256});
  return sign_files(model_name_of(artifact.name()), std::move(signed_files), ignore_paths, key);
}

Result<std::string> sign_manifest(const std::string& model_name, const Manifest& manifest,
                                  const SigningKey& key) {
  const auto ignore_paths = default_ignore_paths();
  std::vector<SignedFile> files;
  for (const auto& e : manifest.entries) {
    if (e.type == EntryType::file && !ignored(e.path, ignore_paths))
      files.push_back({e.path, e.sha256});
  }
  return sign_files(model_name, std::move(files), ignore_paths, key);
}

Result<SignatureSummary> summarize_signature(std::string_view bundle_text, const Manifest& manifest,
                                             const std::string& where) {
  auto bundle = parse_bundle(bundle_text, where);
  if (!bundle) return std::move(bundle).error();
  auto statement = parse_statement(bundle->payload, where);
  if (!statement) return std::move(statement).error();
  SignatureSummary summary;
  summary.model_name = statement->model_name;
  summary.key_hint = bundle->key_hint;
  summary.files = statement->files.size();
  std::map<std::string, std::string> files;
  for (const auto& e : manifest.entries) {
    if (e.type == EntryType::file && !ignored(e.path, statement->ignore_paths))
      files[e.path] = e.sha256;
  }
  for (const auto& signed_file : statement->files) {
    auto it = files.find(signed_file.path);
    if (it == files.end()) {
      ++summary.missing;
      continue;
    }
    if (!it->second.empty() && it->second != signed_file.sha256) ++summary.changed;
    files.erase(it);
  }
  summary.extra = files.size();
  return summary;
}

Result<SignatureCheck> verify_signature(const Artifact& artifact, std::string_view bundle_text,
                                        const PublicKey& key, const CancelToken* cancel,
                                        ProgressSink* progress) {
  const std::string where = "signature of " + artifact.name();
  auto bundle = parse_bundle(bundle_text, where);
  if (!bundle) return std::move(bundle).error();
  SignatureCheck check;
  check.artifact = artifact.name();
  if (!bundle->key_hint.empty() && bundle->key_hint != key.hint()) {
    check.problems.push_back("the public key is not the one that signed (the bundle's key hint " +
                             bundle->key_hint + " is not this key's " + key.hint() + ")");
    return check;
  }
  if (!key.verify(dsse_pae(bundle->payload), bundle->signature)) {
    check.problems.push_back("the signature does not verify with this public key");
    return check;
  }
  check.signature_valid = true;
  auto statement = parse_statement(bundle->payload, where);
  if (!statement) return std::move(statement).error();
  check.model_name = statement->model_name;
  check.ignore_paths = statement->ignore_paths;
  check.files_signed = statement->files.size();
  auto files = files_of(artifact, statement->ignore_paths, cancel, progress);
  if (!files) return std::move(files).error();
  check.files_checked = files->size();
  for (const auto& signed_file : statement->files) {
    auto it = files->find(signed_file.path);
    if (it == files->end()) {
      check.missing.push_back(signed_file.path);
      check.problems.push_back("'" + signed_file.path + "': signed, missing from the artifact");
      continue;
    }
    if (it->second != signed_file.sha256) {
      check.changed.push_back(signed_file.path);
      check.problems.push_back("'" + signed_file.path + "': content differs from the signed (" +
                               it->second + ", signed " + signed_file.sha256 + ")");
    }
    files->erase(it);
  }
  for (const auto& [path, sha256] : *files) {
    check.extra.push_back(path);
    check.problems.push_back("'" + path + "': in the artifact, not signed");
  }
  check.ok = check.problems.empty();
  return check;
}

std::string signature_check_json(const SignatureCheck& check) {
  const nlohmann::ordered_json doc = {{"artifact", check.artifact},
                                      {"ok", check.ok},
                                      {"signature_valid", check.signature_valid},
                                      {"model_name", check.model_name},
                                      {"files_signed", check.files_signed},
                                      {"files_checked", check.files_checked},
                                      {"ignore_paths", check.ignore_paths},
                                      {"missing", check.missing},
                                      {"extra", check.extra},
                                      {"changed", check.changed},
                                      {"problems", check.problems}};
  return json_text(doc);
}

}  // namespace smpack
