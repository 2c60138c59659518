#include "smpack/build.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "code/upload_layout.h"
#include "smpack/artifact.h"
#include "smpack/lint_gate.h"
#include "smpack/repack.h"
#include "util/json_text.h"

namespace smpack {
namespace fs = std::filesystem;

namespace {

// Where `output` lies inside `model_dir`, as an archive path; nullopt when it is outside.
std::optional<std::string> path_inside(const fs::path& output, const fs::path& model_dir) {
  std::error_code ec;
  const fs::path relative =
      fs::weakly_canonical(output, ec).lexically_relative(fs::weakly_canonical(model_dir, ec));
  if (ec || relative.empty() || *relative.begin() == "..") return std::nullopt;
  return relative.generic_string();
}

}  // namespace

Result<BuildReport> build_archive(const SourceSpec& spec, const fs::path& output,
                                  const BuildOptions& options) {
  auto sources = collect_sources(spec);
  if (!sources) return std::move(sources).error();
  // The archive is not part of the model even when it is written into it (`smpack build .
  // -o model.tar.gz`, run twice), as GNU tar leaves its own output out.
  const auto own_output =
      is_s3_url(output.native()) ? std::nullopt : path_inside(output, spec.model_dir);
  if (own_output) {
    std::erase_if(*sources, [&](const SourceFile& f) { return f.archive_path == *own_output; });
  }
  BuildReport report;
  report.archive = output.string();
  if (options.lint) {
    auto artifact = Artifact::open(spec.model_dir);
    if (!artifact) return std::move(artifact).error();
    auto gate = lint_gate(*artifact, spec, options.write.cancel, true, own_output);
    if (!gate) return std::move(gate).error();
    if (!gate->deploy_ready) {
      report.refused = std::move(*gate);
      return report;
    }
  }
  if (is_s3_url(output.native()) && output.native().back() == '/') {
    if (!options.s3) return Error::usage(output.string() + ": S3 is not available here");
    auto prefix = parse_s3_url(output.native());
    if (!prefix) return std::move(prefix).error();
    if (auto r = upload_layout(*sources, *prefix, *options.s3, options.write.cancel, report); !r)
      return std::move(r).error();
  } else {
    auto out = open_archive_output(
        output.string(), options.s3,
        {expected_archive_bytes(*sources), options.write.cancel, options.write.durable});
    if (!out) return std::move(out).error();
    auto written = write_archive(*sources, **out, options.write);
    if (!written) return std::move(written).error();
    report.etag = (*out)->etag();
    if (!report.etag.empty())
      report.model_data_source = model_data_source(output.string(), report.etag);
    report.manifest = std::move(written->manifest);
    report.tar_bytes = written->tar_bytes;
    report.gzip_members = written->gzip_members;
  }
  if (options.sign_with) {
    auto bundle = sign_manifest(model_name_of(output.string()), report.manifest,
                                default_ignore_paths(), *options.sign_with);
    if (!bundle) return std::move(bundle).error();
    report.signature_bundle = std::move(*bundle);
  }
  return report;
}

std::string build_json(const BuildReport& report) {
  nlohmann::ordered_json doc = {{"archive", report.archive},
                                {"archive_bytes", report.manifest.archive_bytes},
                                {"archive_sha256", string_or_null(report.manifest.archive_sha256)},
                                {"content_digest", report.manifest.content_digest},
                                {"members", report.manifest.entries.size()},
                                {"tar_bytes", report.tar_bytes},
                                {"gzip_members", report.gzip_members},
                                {"etag", string_or_null(report.etag)}};
  if (!report.uploaded.empty()) {
    nlohmann::ordered_json objects = nlohmann::ordered_json::array();
    for (const auto& file : report.uploaded) {
      objects.push_back(
          {{"key", file.key}, {"size", file.size}, {"sha256", file.sha256}, {"etag", file.etag}});
    }
    doc["objects"] = std::move(objects);
    doc["manifest_key"] = report.manifest_key;
  }
  doc["signature"] = string_or_null(report.signature_path);
  doc["model_data_source"] = report.model_data_source.empty()
                                 ? nlohmann::ordered_json(nullptr)
                                 : nlohmann::ordered_json::parse(report.model_data_source);
  return json_text(doc);
}

Result<std::int64_t> parse_mtime(std::string_view text) {
  const std::string owned(text);
  char* end = nullptr;
  const long long seconds = std::strtoll(owned.c_str(), &end, 10);
  if (!owned.empty() && *end == '\0' && seconds >= 0) return static_cast<std::int64_t>(seconds);
  std::tm tm{};
  const char* rest = strptime(owned.c_str(), "%Y-%m-%d", &tm);
  if (rest && *rest == 'T') rest = strptime(rest + 1, "%H:%M:%S", &tm);
  if (rest && *rest == 'Z') ++rest;
  if (!rest || *rest != '\0') {
    return Error::usage("'" + owned +
                        "' is neither seconds since the epoch nor a UTC date like "
                        "2024-05-01T00:00:00Z");
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

Result<std::int64_t> resolve_mtime(const std::optional<std::string>& given,
                                   const std::optional<std::string>& source_date_epoch) {
  if (given) return parse_mtime(*given);
  if (!source_date_epoch || source_date_epoch->empty()) return kDefaultMtime;
  const std::string& raw = *source_date_epoch;
  if (raw.find_first_not_of("0123456789") != std::string::npos || raw.size() > 18) {
    return Error::usage("SOURCE_DATE_EPOCH='" + raw +
                        "' is not a number of seconds since the epoch");
  }
  return static_cast<std::int64_t>(std::stoll(raw));
}

}  // namespace smpack
