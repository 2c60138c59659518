#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/verify.h"

namespace smpack::cli {
namespace {

struct VerifyArgs {
  std::string archive;
  std::string manifest;
  std::string sha256;
  FormatFlag format;
};

Result<int> run_verify(const VerifyArgs& args, Context& context) {
  VerifyOptions options;
  if (!args.manifest.empty()) {
    auto expected = read_manifest_file(args.manifest);
    if (!expected) return std::move(expected).error();
    options.expected = std::move(*expected);
  }
  if (!args.sha256.empty()) options.sha256 = args.sha256;
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  TerminalProgress progress(context, "verifying");
  options.cancel = &context.cancel;
  options.progress = progress.sink();
  auto verified = verify_artifact(*artifact, options);
  progress.finish();
  if (!verified) return std::move(verified).error();
  const VerifyReport& report = *verified;
  if (args.format.json()) {
    std::cout << verify_json(report);
  } else {
    for (const auto& p : report.problems)
      std::cout << escape_for_terminal(args.archive) << ": " << escape_for_terminal(p) << "\n";
    if (report.ok && !context.quiet) {
      std::cout << escape_for_terminal(args.archive) << ": OK (" << report.members << " members, "
                << report.gzip_members << " gzip members, CRCs"
                << (report.smpack_index ? ", smpack index" : "")
                << (report.manifest_checked ? ", manifest" : "")
                << (report.sha256_checked ? ", SHA-256" : "") << " checked)\n";
    }
  }
  return report.ok ? kExitOk : kExitFindings;
}

}  // namespace

void add_verify_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<VerifyArgs>();
  auto* cmd = app.add_subcommand(
      "verify", "Check gzip CRCs, the smpack index, and optional expected digests");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz")->required();
  cmd->add_option("--manifest", args->manifest, "A manifest written by `smpack build --manifest`");
  cmd->add_option("--sha256", args->sha256, "The archive's expected SHA-256 (hex)");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_verify(*args, context)); });
}

}  // namespace smpack::cli
