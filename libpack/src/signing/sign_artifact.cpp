// Signing and verifying an artifact as the directory it extracts to.
#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "signing/model_signing_format.h"
#include "smpack/signing.h"
#include "smpack/utf8.h"
#include "util/json_text.h"

namespace smpack {
namespace {

bool ignored(std::string_view path, const std::vector<std::string>& ignore_paths) {
  for (const auto& p : ignore_paths) {
    if (is_under(path, p)) return true;
  }
  return false;
}

// What every member must be for its extraction to be exactly the files listed: a
// regular file or a directory, a safe UTF-8 name, and one member per path, none under a
// file. Checked for every member, ignored or not (as model_signing checks a file's type
// before it looks at the ignored paths): a symlink or hard link under .git could
// otherwise redirect what a signed path extracts to, and a later member of the same
// name could replace a signed file.
Result<void> check_member(const Member& m, const std::string& where,
                          std::map<std::string, EntryType>& seen) {
  if (m.path_problem != PathProblem::none)
    return Error::bad_input(where + " has an unsafe path; an extractor would not write it");
  if (first_invalid_utf8(m.path) != std::string_view::npos)
    return Error::bad_input(where +
                            " has a name that is not UTF-8, which model signing cannot list");
  if (m.type == EntryType::symlink || m.type == EntryType::hardlink) {
    return Error::bad_input(where + " is a " + std::string(name_of(m.type)) +
                            "; model signing refuses links (store the file itself: `smpack "
                            "build --follow-symlinks`)");
  }
  if (m.type != EntryType::file && m.type != EntryType::directory) {
    return Error::bad_input(where + " is a " + std::string(name_of(m.type)) +
                            ", which model signing cannot sign; only files and directories");
  }
  // Every folder above it is a directory, not a file of the archive.
  for (auto slash = m.path.find('/'); slash != std::string::npos;
       slash = m.path.find('/', slash + 1)) {
    auto [it, added] = seen.emplace(m.path.substr(0, slash), EntryType::directory);
    if (!added && it->second != EntryType::directory)
      return Error::bad_input(where + " lies under '" + it->first + "', which is a file");
  }
  auto [it, added] = seen.emplace(m.path, m.type);
  if (!added && (m.type != EntryType::directory || it->second != EntryType::directory)) {
    return Error::bad_input(where +
                            " names a path that an earlier member already has; extractors "
                            "leave the last one, so what is signed depends on the extractor");
  }
  return {};
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
  std::map<std::string, EntryType> seen;
  for (const Member& m : tree->members) {
    if (m.path_problem == PathProblem::root_member) continue;
    const std::string where = artifact.name() + ": member '" + m.stored_path + "'";
    if (auto r = check_member(m, where, seen); !r) return std::move(r).error();
    if (m.type == EntryType::file && !ignored(m.path, ignore_paths)) files[m.path] = m.sha256;
  }
  return files;
}

// The bundle's ignored paths as model_signing applies them, with git's, which its
// verify always adds.
std::vector<std::string> applied_ignore_paths(const std::vector<std::string>& recorded) {
  std::vector<std::string> applied = default_ignore_paths();
  for (const auto& path : recorded) {
    if (auto normalized = normalize_ignore_path(path)) applied.push_back(*normalized);
  }
  return applied;
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

Result<std::vector<std::string>> signing_ignore_paths(const SignOptions& options) {
  std::vector<std::string> paths;
  if (options.ignore_git_paths) paths = default_ignore_paths();
  for (const auto& given : options.ignore_paths) {
    auto normalized = normalize_ignore_path(given);
    if (!normalized || normalized->empty()) {
      return Error::usage("ignore path '" + given +
                          "': give a path relative to the model, inside it (not '', '.', "
                          "absolute or with '..')");
    }
    if (std::find(paths.begin(), paths.end(), *normalized) == paths.end())
      paths.push_back(*normalized);
  }
  return paths;
}

Result<std::string> sign_artifact(const Artifact& artifact, const SigningKey& key,
                                  const SignOptions& options) {
  auto ignore_paths = signing_ignore_paths(options);
  if (!ignore_paths) return std::move(ignore_paths).error();
  if (options.from_index && artifact.index()) {
    auto manifest = artifact.manifest(options.cancel);
    if (!manifest) return std::move(manifest).error();
    return sign_manifest(model_name_of(artifact.name()), *manifest, *ignore_paths, key);
  }
  auto files = files_of(artifact, *ignore_paths, options.cancel, options.progress);
  if (!files) return std::move(files).error();
  std::vector<SignedFile> signed_files;
  for (auto& [path, sha256] : *files) signed_files.push_back({path, sha256});
  return sign_files(model_name_of(artifact.name()), std::move(signed_files), *ignore_paths, key);
}

Result<std::string> sign_manifest(const std::string& model_name, const Manifest& manifest,
                                  const std::vector<std::string>& ignore_paths,
                                  const SigningKey& key) {
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
    if (e.type == EntryType::file &&
        !ignored(e.path, applied_ignore_paths(statement->ignore_paths)))
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
  auto files = files_of(artifact, applied_ignore_paths(statement->ignore_paths), cancel, progress);
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
