// S3 is reached only for a command that names an s3:// URL, so that a local command
// never looks for credentials (nor asks the instance metadata service for them).
#include <fstream>

#include "command.h"
#include "output.h"

namespace smpack::cli {

Result<const S3Client*> s3_for(Context& context, const std::string& location) {
  if (!is_s3_url(location)) return context.s3 ? &*context.s3 : nullptr;
  if (!context.s3) {
    S3Settings settings;
    settings.cancel = &context.cancel;
    auto client = S3Client::connect(AwsEnvironment::from_process(), settings);
    if (!client) return std::move(client).error();
    context.s3 = std::move(*client);
    context.s3_progress = std::make_unique<TerminalProgress>(context, "S3", true);
    context.s3->set_progress(static_cast<TerminalProgress*>(context.s3_progress.get())->sink());
  }
  return &*context.s3;
}

Result<Artifact> open_artifact(Context& context, const std::string& location,
                               const ReadLimits& limits) {
  auto s3 = s3_for(context, location);
  if (!s3) return std::move(s3).error();
  return Artifact::open(location, limits, *s3);
}

Result<std::string> read_small_file(Context& context, const std::string& location,
                                    std::uint64_t max_bytes) {
  std::unique_ptr<ByteSource> source;
  if (is_s3_url(location)) {
    auto s3 = s3_for(context, location);
    if (!s3) return std::move(s3).error();
    auto url = parse_s3_url(location);
    if (!url) return std::move(url).error();
    auto object = (*s3)->open_object(*url);
    if (!object) return std::move(object).error();
    source = std::move(*object);
  } else {
    auto file = FileByteSource::open(location);
    if (!file) return std::move(file).error();
    source = std::make_unique<FileByteSource>(std::move(*file));
  }
  if (source->size() > max_bytes) {
    return Error::bad_input(location + ": " + std::to_string(source->size()) +
                            " bytes, more than the " + std::to_string(max_bytes) +
                            " such a file may have");
  }
  std::string data(static_cast<std::size_t>(source->size()), '\0');
  if (auto r = source->read_at(0, std::as_writable_bytes(std::span(data))); !r)
    return std::move(r).error();
  return data;
}

Result<void> write_small_file(Context& context, const std::string& location,
                              const std::string& data) {
  if (is_s3_url(location)) {
    auto s3 = s3_for(context, location);
    if (!s3) return std::move(s3).error();
    auto url = parse_s3_url(location);
    if (!url) return std::move(url).error();
    auto put = (*s3)->put_object(*url, data);
    if (!put) return std::move(put).error();
    return {};
  }
  std::ofstream out(location, std::ios::binary | std::ios::trunc);
  out << data;
  out.close();
  if (!out) return Error::io(location + ": cannot write it");
  return {};
}

}  // namespace smpack::cli
