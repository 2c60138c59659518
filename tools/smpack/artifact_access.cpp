// S3 is reached only for a command that names an s3:// URL, so that a local command
// never looks for credentials (nor asks the instance metadata service for them).
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

}  // namespace smpack::cli
