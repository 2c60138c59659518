#include "smpack/describe.h"

#include <algorithm>
#include <nlohmann/json.hpp>

#include "smpack/archive_writer.h"
#include "smpack/deploy_call.h"
#include "smpack/repack.h"
#include "smpack/s3.h"
#include "util/json_text.h"

namespace smpack {
namespace {

using Json = nlohmann::ordered_json;

Json weights_json(const std::vector<WeightFileReport>& weights) {
  Json out = Json::array();
  for (const auto& report : weights) {
    Json problems = Json::array();
    for (const auto& problem : report.problems)
      problems.push_back({{"kind", name_of(problem.kind)}, {"message", problem.message}});
    out.push_back({{"member", report.member},
                   {"format", name_of(report.format)},
                   {"verdict", report.verdict ? Json(name_of(*report.verdict)) : Json(nullptr)},
                   {"tensors", report.tensors.size()},
                   {"tensor_bytes", report.tensor_bytes},
                   {"globals", report.globals},
                   {"problems", problems},
                   {"complete", report.complete}});
  }
  return out;
}

Json handlers_json(const LintReport& lint) {
  Json out = Json::object();
  for (const auto& [name, binding] : lint.handler_scan.bindings) {
    if (!is_handler_name(name, lint.profile)) continue;
    Json h = {{"line", binding.line}, {"file", binding.file}};
    h["defined"] = binding.kind != BindingKind::deleted;
    h["params"] = binding.params ? Json(*binding.params) : Json(nullptr);
    h["async"] = binding.is_async();
    if (!binding.alternatives.empty()) {
      // Bindings a condition decided at run time may pick instead of this one.
      Json candidates = Json::array();
      for (const auto& [line, params] : binding.alternatives)
        candidates.push_back({{"line", line}, {"params", params ? Json(*params) : Json(nullptr)}});
      h["alternatives"] = std::move(candidates);
    }
    if (!binding.note.empty()) h["note"] = binding.note;
    out[name] = h;
  }
  return out;
}

}  // namespace

bool is_handler_name(std::string_view name, Profile profile) {
  auto in = [&](const auto& names) {
    return std::find(names.begin(), names.end(), name) != names.end();
  };
  return in(kHandlerNames) || (profile == Profile::tensorflow && in(kTfServingHandlerNames));
}

Result<ArtifactDescription> describe_artifact(const Artifact& artifact, SdkVersion sdk,
                                              const CancelToken* cancel, ProgressSink* progress) {
  // Weight files are listed by structure: the tensor data's CRCs are `verify`'s business.
  VisitOptions options = lint_load_options(/*check_tensor_crcs=*/false);
  options.cancel = cancel;
  options.progress = progress;
  // A streamed archive is read whole anyway: hash it on the way for the content digest.
  options.hash_members = artifact.kind() == ArtifactKind::streamed_archive;
  options.keep_partial = true;
  auto tree = artifact.visit(options);
  if (!tree) return std::move(tree).error();

  ArtifactDescription d;
  d.artifact = artifact.name();
  d.kind = artifact.kind();
  d.archive = tree->archive;
  d.manifest = tree->manifest();
  if (d.kind == ArtifactKind::directory) {
    const SourceSpec defaults;
    for (const auto& m : tree->members) {
      // Within the last topmost path left out, or a new one.
      if (!d.left_out_by_build.empty() &&
          m.path.starts_with(d.left_out_by_build.back().first + "/")) {
        if (m.type == EntryType::file) ++d.left_out_by_build.back().second;
      } else if (is_excluded(m.path, defaults)) {
        d.left_out_by_build.emplace_back(m.path, m.type == EntryType::file ? 1 : 0);
      }
    }
  }
  const Manifest& manifest = d.manifest;
  if (!is_layout(d.kind)) d.content_digest = manifest.content_digest;
  for (const auto& m : tree->members) {
    if (m.type == EntryType::directory) {
      ++d.directories;
    } else if (m.type == EntryType::file) {
      ++d.files;
      d.data_bytes += m.size;
    } else {
      ++d.other_members;
    }
    if (is_code_path(m.path)) d.has_code = true;
  }
  for (const auto& e : manifest.entries) {
    if (e.type == EntryType::file) d.largest.push_back(e);
  }
  std::stable_sort(d.largest.begin(), d.largest.end(),
                   [](const ManifestEntry& a, const ManifestEntry& b) { return a.size > b.size; });
  if (d.largest.size() > 5) d.largest.resize(5);
  d.weights = tree->weights;
  d.read_error = tree->read_error;
  d.lint = lint_tree(*tree, LintOptions{});
  if (d.read_error) d.lint.deploy_ready = false;
  d.s3_objects = artifact.s3_objects();
  d.model_data_source = model_data_source_of(artifact);
  d.deploy_call = deploy_call_for(artifact, d.lint, sdk);
  return d;
}

std::string describe_json(const ArtifactDescription& d) {
  Json largest = Json::array();
  for (const auto& e : d.largest)
    largest.push_back({{"path", e.path}, {"size", e.size}, {"sha256", e.sha256}});
  Json left_out = Json::array();
  for (const auto& [path, files] : d.left_out_by_build)
    left_out.push_back({{"path", path}, {"files", files}});
  Json signature = nullptr;
  if (d.signature) {
    signature = {{"path", d.signature_path},          {"model_name", d.signature->model_name},
                 {"key_hint", d.signature->key_hint}, {"files", d.signature->files},
                 {"missing", d.signature->missing},   {"changed", d.signature->changed},
                 {"extra", d.signature->extra}};
  }
  Json s3_objects = Json::array();
  for (const auto& o : d.s3_objects)
    s3_objects.push_back({{"key", o.key}, {"size", o.size}, {"etag", o.etag}});
  const ArchiveFacts none;
  const ArchiveFacts& facts = d.archive ? *d.archive : none;
  Json doc = {{"archive", d.artifact},
              {"kind", name_of(d.kind)},
              {"container", d.archive ? Json(name_of(facts.container)) : Json("directory")},
              {"writer", d.archive ? Json(facts.writer) : Json("a model directory")},
              {"writer_evidence", facts.writer_evidence},
              {"tar_format", facts.tar_format},
              {"gzip_file_name", facts.gzip.file_name},
              {"archive_bytes", facts.file_bytes},
              {"tar_bytes", facts.tar_bytes},
              {"gzip_members", facts.gzip_members},
              {"smpack_index", facts.index_version.has_value()},
              {"foreign_prefix_bytes", facts.foreign_prefix_bytes},
              {"members", d.files + d.directories + d.other_members},
              {"files", d.files},
              {"directories", d.directories},
              {"other_members", d.other_members},
              {"data_bytes", d.data_bytes},
              {"has_code", d.has_code},
              {"content_digest", d.content_digest.empty() ? Json(nullptr) : Json(d.content_digest)},
              {"largest", largest},
              {"weights", weights_json(d.weights)},
              {"profile", name_of(d.lint.profile)},
              {"profile_reason", d.lint.profile_reason},
              {"module", d.lint.handler_module},
              {"handlers", handlers_json(d.lint)},
              {"lint_errors",
               std::count_if(d.lint.findings.begin(), d.lint.findings.end(),
                             [](const Finding& f) { return f.severity == Severity::error; })},
              {"deploy_ready", d.lint.deploy_ready},
              {"read_error", d.read_error ? Json(*d.read_error) : Json(nullptr)},
              {"deploy_call", d.deploy_call},
              {"model_data_source",
               d.model_data_source.empty() ? Json(nullptr) : Json::parse(d.model_data_source)},
              {"s3_objects", s3_objects},
              {"left_out_by_build", left_out},
              {"signature", signature}};
  return json_text(doc);
}

}  // namespace smpack
