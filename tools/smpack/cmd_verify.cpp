#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/signing.h"
#include "smpack/verify.h"

namespace smpack::cli {
namespace {

struct VerifyArgs {
  std::string archive;
  std::string manifest;
  std::string sha256;
  std::string signature;
  std::string public_key;
  FormatFlag format;
};

// verify --signature: the bundle against the key and every file's content.
Result<int> run_verify_signature(const VerifyArgs& args, Context& context) {
  auto key = PublicKey::from_pem_file(args.public_key);
  if (!key) return std::move(key).error();
  auto bundle = read_small_file(context, args.signature);
  if (!bundle) return std::move(bundle).error();
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  TerminalProgress progress(context, "hashing");
  auto checked = verify_signature(*artifact, *bundle, *key, &context.cancel, progress.sink());
  progress.finish();
  if (!checked) return std::move(checked).error();
  if (args.format.json()) {
    std::cout << signature_check_json(*checked);
  } else {
    for (const auto& p : checked->problems)
      std::cout << escape_for_terminal(args.archive) << ": " << escape_for_terminal(p) << "\n";
    if (checked->ok && !context.quiet) {
      std::cout << escape_for_terminal(args.archive) << ": signature OK (" << checked->files_checked
                << " files match " << escape_for_terminal(args.signature) << ", model '"
                << escape_for_terminal(checked->model_name) << "')\n";
    }
  }
  return checked->ok ? kExitOk : kExitFindings;
}

Result<int> run_verify(const VerifyArgs& args, Context& context) {
  if (args.signature.empty() != args.public_key.empty())
    return Error::usage("--signature and --public-key go together");
  if (!args.signature.empty()) {
    if (!args.manifest.empty() || !args.sha256.empty())
      return Error::usage("--signature checks the files; give --manifest or --sha256 on their own");
    return run_verify_signature(args, context);
  }
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
  cmd->add_option("ARCHIVE", args->archive,
                  "model.tar.gz (a directory or S3 prefix too with --signature)")
      ->required();
  cmd->add_option("--manifest", args->manifest, "A manifest written by `smpack build --manifest`");
  cmd->add_option("--sha256", args->sha256, "The archive's expected SHA-256 (hex)");
  cmd->add_option("--signature", args->signature,
                  "A model signing bundle (smpack sign, model_signing sign key) to check every "
                  "file against");
  cmd->add_option("--public-key", args->public_key, "The PEM public key that --signature needs");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_verify(*args, context)); });
}

}  // namespace smpack::cli
