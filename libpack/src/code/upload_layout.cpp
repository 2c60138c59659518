#include "code/upload_layout.h"

#include <fstream>
#include <future>

#include "io/thread_pool.h"
#include "smpack/digest.h"
#include "smpack/manifest.h"
#include "smpack/repack.h"

namespace smpack {
namespace {

constexpr std::uint64_t kSinglePutBytes = 16ull << 20;
constexpr unsigned kFilesInFlight = 4;

Result<UploadedFile> upload_file(const SourceFile& file, const S3Url& prefix, const S3Client& s3,
                                 const CancelToken* cancel) {
  UploadedFile uploaded;
  uploaded.key = prefix.key + file.archive_path;
  uploaded.size = file.size;
  const S3Url url{prefix.bucket, uploaded.key};
  auto source = FileByteSource::open(file.disk_path);
  if (!source) return std::move(source).error();
  if (source->size() != file.size)
    return Error::bad_input(file.disk_path.string() + ": changed size while being uploaded");
  if (file.size <= kSinglePutBytes) {
    std::string body(file.size, '\0');
    if (auto r = source->read_at(0, std::as_writable_bytes(std::span(body))); !r)
      return std::move(r).error();
    auto put = s3.put_object(url, body);
    if (!put) return std::move(put).error();
    uploaded.etag = std::move(put->etag);
    uploaded.sha256 = std::move(put->sha256);
    return uploaded;
  }
  Hasher sha;
  auto upload = s3.create_upload(url, {file.size, cancel});
  if (!upload) return std::move(upload).error();
  auto streamed = stream_all(
      *source,
      [&](std::span<const std::byte> piece) -> Result<void> {
        sha.update(piece);
        return (*upload)->write(piece);
      },
      cancel);
  if (!streamed) return std::move(streamed).error();
  if (auto r = (*upload)->commit(); !r) return std::move(r).error();
  uploaded.etag = (*upload)->etag();
  uploaded.sha256 = sha.finish_hex();
  return uploaded;
}

}  // namespace

Result<void> upload_layout(const std::vector<SourceFile>& sources, const S3Url& prefix,
                           const S3Client& s3, const CancelToken* cancel, BuildReport& report) {
  if (prefix.key.empty()) {
    return Error::usage(prefix.text() + ": give a prefix under the bucket (s3://" + prefix.bucket +
                        "/models/name/): the manifest is written beside it");
  }
  ThreadPool pool(kFilesInFlight);
  std::vector<std::future<Result<UploadedFile>>> pending;
  for (const auto& file : sources) {
    if (file.type != EntryType::file) continue;
    pending.push_back(pool.submit(
        [&file, &prefix, &s3, cancel] { return upload_file(file, prefix, s3, cancel); }));
  }
  std::optional<Error> failed;
  for (auto& result : pending) {
    auto uploaded = result.get();
    if (!uploaded) {
      if (!failed) failed = std::move(uploaded).error();
      continue;
    }
    report.uploaded.push_back(std::move(*uploaded));
  }
  if (failed) return *failed;
  if (cancel && cancel->cancelled()) return Error::interrupted();
  for (std::size_t i = 0, f = 0; i < sources.size(); ++i) {
    if (sources[i].type != EntryType::file) continue;
    const UploadedFile& uploaded = report.uploaded[f++];
    report.manifest.entries.push_back({sources[i].archive_path, EntryType::file, sources[i].mode,
                                       uploaded.size, uploaded.sha256});
  }
  report.manifest.content_digest = content_digest(report.manifest.entries);
  // Beside the prefix, not under it: under it, it would land in /opt/ml/model.
  report.manifest_key = prefix.key.substr(0, prefix.key.size() - 1) + ".smpack-manifest.json";
  auto written =
      s3.put_object({prefix.bucket, report.manifest_key}, manifest_to_json(report.manifest));
  if (!written) return std::move(written).error();
  report.model_data_source = model_data_source(prefix.text());
  return {};
}

}  // namespace smpack
