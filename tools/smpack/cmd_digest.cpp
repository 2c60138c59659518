#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/artifact_digest.h"

namespace smpack::cli {
namespace {

struct DigestArgs {
  std::string archive;
  std::string part_size;
  FormatFlag format;
};

// "8MiB", "16MB", "5242880".
Result<std::uint64_t> parse_size(const std::string& text) {
  char* end = nullptr;
  unsigned long long value = std::strtoull(text.c_str(), &end, 10);
  std::string unit = end;
  std::uint64_t scale = 0;
  if (unit.empty() || unit == "B")
    scale = 1;
  else if (unit == "KiB" || unit == "K")
    scale = 1ull << 10;
  else if (unit == "MiB" || unit == "M")
    scale = 1ull << 20;
  else if (unit == "GiB" || unit == "G")
    scale = 1ull << 30;
  else if (unit == "KB")
    scale = 1000;
  else if (unit == "MB")
    scale = 1000 * 1000;
  else if (unit == "GB")
    scale = 1000 * 1000 * 1000;
  if (end == text.c_str() || scale == 0 || value == 0) {
    return Error::usage("'" + text + "' is not a size (examples: 8MiB, 16MB, 5242880)");
  }
  // S3 allows parts of 5 MiB to 5 GiB.
  std::uint64_t bytes = value * scale;
  if (bytes < (5ull << 20) || bytes > (5ull << 30)) {
    return Error::usage("S3 part sizes are 5 MiB to 5 GiB; got " + text);
  }
  return bytes;
}

Result<int> run_digest(const DigestArgs& args, Context& context) {
  std::uint64_t part_size = 0;
  if (!args.part_size.empty()) {
    auto parsed = parse_size(args.part_size);
    if (!parsed) return std::move(parsed).error();
    part_size = *parsed;
  }
  auto artifact = Artifact::open(args.archive);
  if (!artifact) return std::move(artifact).error();
  TerminalProgress progress(context, "hashing");
  auto digest = digest_artifact(*artifact, part_size, &context.cancel, progress.sink());
  progress.finish();
  if (!digest) return std::move(digest).error();
  if (args.format.json()) {
    std::cout << digest_json(*digest);
  } else {
    if (!digest->sha256.empty()) std::cout << "sha256          " << digest->sha256 << "\n";
    std::cout << "content-digest  " << digest->content_digest << "\n";
    if (part_size)
      std::cout << "s3-etag         " << digest->s3_etag << "  (parts of " << human_bytes(part_size)
                << ")\n";
  }
  return kExitOk;
}

}  // namespace

void add_digest_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<DigestArgs>();
  auto* cmd =
      app.add_subcommand("digest", "Print the archive's SHA-256, content digest and S3 ETag");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz")->required();
  cmd->add_option("--s3-etag", args->part_size,
                  "Also compute S3's multipart ETag for this part size (e.g. 8MiB)");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_digest(*args, context)); });
}

}  // namespace smpack::cli
