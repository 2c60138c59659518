#include <fstream>
#include <iostream>

#include "code_options.h"
#include "commands.h"
#include "lint_gate.h"
#include "output.h"
#include "sign_flag.h"
#include "smpack/build.h"

namespace smpack::cli {
namespace {

struct BuildArgs {
  std::string source_dir;
  std::string output;
  CodeOptions code;
  WriteFlags write;
  std::string manifest;
  std::string layout = "archive";
  bool no_lint = false;
  bool no_archive_sha256 = false;
  bool no_fsync = false;
  SignFlag sign;
  FormatFlag format;
};

Result<int> run_build(const BuildArgs& args, Context& context) {
  const bool to_prefix = is_s3_url(args.output) && args.output.ends_with("/");
  if (to_prefix != (args.layout == "prefix")) {
    return Error::usage(to_prefix ? args.output +
                                        " names an S3 prefix: give --layout prefix to write the "
                                        "files there uncompressed, or name an object key"
                                  : "--layout prefix writes to s3://bucket/prefix/ (with the "
                                    "trailing slash), not to " +
                                        args.output);
  }
  auto write = args.write.resolve(context);
  if (!write) return std::move(write).error();
  BuildOptions options;
  options.write = *write;
  options.write.archive_sha256 = !args.no_archive_sha256;
  options.write.durable = !args.no_fsync;
  options.lint = !args.no_lint;
  auto s3 = s3_for(context, args.output);
  if (!s3) return std::move(s3).error();
  options.s3 = *s3;
  auto key = args.sign.load();
  if (!key) return std::move(key).error();
  if (*key) options.sign_with = &**key;
  TerminalProgress progress(context, "building");
  options.write.progress = progress.sink();
  auto built = build_archive(args.code.spec(args.source_dir), args.output, options);
  progress.finish();
  if (!built) return std::move(built).error();
  if (built->refused) return report_gate_refusal(*built->refused, context);
  if (*key) {
    built->signature_path = default_signature_path(args.output);
    if (auto r = write_small_file(context, built->signature_path, built->signature_bundle); !r)
      return std::move(r).error();
  }

  const Manifest& manifest = built->manifest;
  if (!args.manifest.empty()) {
    std::ofstream out(args.manifest, std::ios::binary | std::ios::trunc);
    out << manifest_to_json(manifest);
    if (!out.flush()) return Error::io(args.manifest + ": cannot write the manifest");
  }
  if (args.format.json()) {
    std::cout << build_json(*built);
  } else if (to_prefix) {
    std::cout << escape_for_terminal(args.output) << ": " << built->uploaded.size()
              << " objects, checksums sent and ETags checked\n"
              << "manifest s3://" << parse_s3_url(args.output)->bucket << "/"
              << escape_for_terminal(built->manifest_key) << "\n"
              << "content  " << manifest.content_digest << "\n"
              << "ModelDataSource (CreateModel):\n"
              << built->model_data_source << "\n";
  } else {
    std::cout << escape_for_terminal(args.output) << ": " << manifest.entries.size() << " members, "
              << human_bytes(built->tar_bytes) << " -> " << human_bytes(manifest.archive_bytes)
              << "\n"
              << "sha256  "
              << (manifest.archive_sha256.empty() ? "(not computed: --no-archive-sha256)"
                                                  : manifest.archive_sha256)
              << "\n"
              << "content " << manifest.content_digest << "\n";
    if (!built->etag.empty()) {
      std::cout << "etag    " << built->etag << "  (checked)\n"
                << "ModelDataSource (CreateModel):\n"
                << built->model_data_source << "\n";
    }
  }
  if (*key && !args.format.json())
    std::cout << "signed  " << escape_for_terminal(built->signature_path) << "\n";
  return kExitOk;
}

}  // namespace

void add_build_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<BuildArgs>();
  auto* cmd =
      app.add_subcommand("build", "Write a deterministic model.tar.gz from a model directory");
  cmd->add_option("SRC_DIR", args->source_dir, "Model directory (weights and configs at its root)")
      ->required();
  cmd->add_option("-o,--output", args->output,
                  "Archive to write (atomically): a path or s3://bucket/key")
      ->required();
  args->code.add_to(*cmd);
  args->write.add_to(*cmd);
  cmd->add_option("--manifest", args->manifest,
                  "Also write the JSON manifest (digests) to this file");
  cmd->add_option("--layout", args->layout,
                  "archive: one model.tar.gz; prefix: the files themselves under "
                  "s3://bucket/prefix/ (an uncompressed S3ModelDataSource)")
      ->check(CLI::IsMember({"archive", "prefix"}))
      ->capture_default_str();
  cmd->add_flag("--no-lint", args->no_lint, "Write even when lint finds errors");
  cmd->add_flag("--no-archive-sha256", args->no_archive_sha256,
                "Skip the SHA-256 of the whole archive (every member's SHA-256 and the content "
                "digest are still computed)");
  cmd->add_flag("--no-fsync", args->no_fsync,
                "Do not flush the archive to disk before renaming it into place (for one that is "
                "uploaded or copied at once)");
  args->sign.add_to(*cmd, "the archive (from the digests computed while writing it)");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_build(*args, context)); });
}

}  // namespace smpack::cli
