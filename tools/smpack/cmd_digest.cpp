#include <cctype>
#include <iostream>
#include <string_view>
#include <utility>

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

// A part size as the AWS CLI reads one (awscli/customizations/s3/utils.py,
// human_readable_to_bytes): a number of bytes, or a number with KB/MB/GB/TB or
// KiB/MiB/GiB/TiB in any case, all powers of 1024, so "8MB" is the CLI's 8 MiB default
// multipart chunk size.
Result<std::uint64_t> parse_size(const std::string& text) {
  std::string lower = text;
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  static constexpr std::pair<std::string_view, int> kSuffixes[] = {
      {"kib", 10}, {"mib", 20}, {"gib", 30}, {"tib", 40},
      {"kb", 10},  {"mb", 20},  {"gb", 30},  {"tb", 40}};
  std::string_view digits = lower;
  int shift = 0;
  for (const auto& [suffix, bits] : kSuffixes) {
    if (digits.ends_with(suffix)) {
      digits.remove_suffix(suffix.size());
      shift = bits;
      break;
    }
  }
  const bool numeric = !digits.empty() && digits.size() <= 12 &&
                       digits.find_first_not_of("0123456789") == std::string_view::npos;
  if (!numeric) {
    return Error::usage("'" + text +
                        "' is not a size (bytes, or with KB, MB, GB, KiB, MiB, GiB: 8MB, 5242880)");
  }
  const std::uint64_t bytes = std::stoull(std::string(digits)) << shift;
  // S3 allows parts of 5 MiB to 5 GiB.
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
  auto artifact = open_artifact(context, args.archive);
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
