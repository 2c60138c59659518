#include <filesystem>
#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/signing.h"

namespace smpack::cli {
namespace {

namespace fs = std::filesystem;

struct SignArgs {
  std::string artifact;
  std::string key;
  std::string output;
  std::vector<std::string> ignore_paths;
  bool no_ignore_git_paths = false;
  FormatFlag format;
};

// A signature written inside the directory it signs is left out of it, as model_signing
// leaves its own out: recorded relative to the directory.
std::vector<std::string> ignore_paths_for(const SignArgs& args, const std::string& signature) {
  std::vector<std::string> paths = args.ignore_paths;
  if (is_s3_url(args.artifact) || is_s3_url(signature)) return paths;
  std::error_code ec;
  const fs::path root = fs::weakly_canonical(args.artifact, ec);
  const fs::path sig = fs::weakly_canonical(signature, ec);
  if (!ec && fs::is_directory(root, ec)) {
    const fs::path relative = sig.lexically_relative(root);
    if (!relative.empty() && *relative.begin() != "..") paths.push_back(relative.generic_string());
  }
  return paths;
}

Result<int> run_sign(const SignArgs& args, Context& context) {
  auto key = SigningKey::from_pem_file(args.key);
  if (!key) return std::move(key).error();
  auto artifact = open_artifact(context, args.artifact);
  if (!artifact) return std::move(artifact).error();
  const std::string signature =
      args.output.empty() ? default_signature_path(args.artifact) : args.output;
  SignOptions options;
  options.ignore_paths = ignore_paths_for(args, signature);
  options.ignore_git_paths = !args.no_ignore_git_paths;
  TerminalProgress progress(context, "hashing");
  options.cancel = &context.cancel;
  options.progress = progress.sink();
  auto bundle = sign_artifact(*artifact, *key, options);
  progress.finish();
  if (!bundle) return std::move(bundle).error();
  if (auto r = write_small_file(context, signature, *bundle); !r) return std::move(r).error();
  if (args.format.json()) {
    print_json({{"artifact", args.artifact},
                {"signature", signature},
                {"model_name", model_name_of(args.artifact)},
                {"key_hint", key->public_key_hint()}});
  } else if (!context.quiet) {
    std::cout << escape_for_terminal(signature) << ": signed " << escape_for_terminal(args.artifact)
              << " (model '" << escape_for_terminal(model_name_of(args.artifact)) << "', key hint "
              << key->public_key_hint().substr(0, 16) << "...)\n";
  }
  return kExitOk;
}

}  // namespace

void add_sign_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<SignArgs>();
  auto* cmd = app.add_subcommand(
      "sign", "Sign an artifact as OpenSSF model signing signs the directory it extracts to");
  cmd->add_option("ARTIFACT", args->artifact, "model.tar.gz, a model directory, or s3://")
      ->required();
  cmd->add_option("--key", args->key, "PEM private key (EC: P-256, P-384 or P-521)")->required();
  cmd->add_option("-o,--output", args->output,
                  "Where the signature goes (default: beside the artifact, ARTIFACT.sig)");
  cmd->add_option("--ignore-path", args->ignore_paths,
                  "A path (relative to the model) left out of the signature and recorded in it, "
                  "besides .git, .gitattributes, .github and .gitignore");
  cmd->add_flag("--no-ignore-git-paths", args->no_ignore_git_paths,
                "Sign .git, .gitattributes, .github and .gitignore too (model_signing's "
                "--no-ignore-git-paths)");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_sign(*args, context)); });
}

}  // namespace smpack::cli
