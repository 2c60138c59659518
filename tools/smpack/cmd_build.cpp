#include <algorithm>
#include <fstream>
#include <iostream>

#include "code_options.h"
#include "commands.h"
#include "lint_gate.h"
#include "output.h"
#include "smpack/archive_writer.h"
#include "smpack/lint.h"
#include "smpack/stage.h"

namespace smpack::cli {
namespace {

struct BuildArgs {
  std::string source_dir;
  std::string output;
  CodeOptions code;
  WriteFlags write;
  std::string manifest;
  bool no_lint = false;
  FormatFlag format;
};

Result<int> run_build(const BuildArgs& args, Context& context) {
  const SourceSpec spec = args.code.spec(args.source_dir);
  auto sources = collect_sources(spec);
  if (!sources) return std::move(sources).error();
  // A weights-only archive is a legitimate step (code comes later, with add-code);
  // once code/ is in, the archive claims to be deployable, so lint must pass.
  const bool holds_code = std::any_of(sources->begin(), sources->end(), [](const SourceFile& f) {
    return is_code_path(f.archive_path);
  });
  if (!args.no_lint && holds_code) {
    auto tree = spec.has_code() ? tree_with_code(spec.model_dir, spec, lint_load_options(false))
                                : load_model_tree(spec.model_dir, lint_load_options(false));
    if (!tree) return std::move(tree).error();
    if (!passes_lint_gate(*tree, spec, context)) return kExitFindings;
  }

  auto options = args.write.resolve(context);
  if (!options) return std::move(options).error();
  TerminalProgress progress(context, "building");
  options->progress = progress.sink();
  auto written = write_archive(*sources, args.output, *options);
  progress.finish();
  if (!written) return std::move(written).error();

  const Manifest& manifest = written->manifest;
  if (!args.manifest.empty()) {
    std::ofstream out(args.manifest, std::ios::binary | std::ios::trunc);
    out << manifest_to_json(manifest);
    if (!out.flush()) return Error::io(args.manifest + ": cannot write the manifest");
  }
  if (args.format.json()) {
    print_json({{"archive", args.output},
                {"archive_bytes", manifest.archive_bytes},
                {"archive_sha256", manifest.archive_sha256},
                {"content_digest", manifest.content_digest},
                {"members", manifest.entries.size()},
                {"tar_bytes", written->tar_bytes},
                {"gzip_members", written->gzip_members}});
  } else {
    std::cout << escape_name(args.output) << ": " << manifest.entries.size() << " members, "
              << human_bytes(written->tar_bytes) << " -> " << human_bytes(manifest.archive_bytes)
              << "\n"
              << "sha256  " << manifest.archive_sha256 << "\n"
              << "content " << manifest.content_digest << "\n";
  }
  return kExitOk;
}

}  // namespace

void add_build_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<BuildArgs>();
  auto* cmd =
      app.add_subcommand("build", "Write a deterministic model.tar.gz from a model directory");
  cmd->add_option("SRC_DIR", args->source_dir, "Model directory (weights and configs at its root)")
      ->required();
  cmd->add_option("-o,--output", args->output, "Archive to write (atomically)")->required();
  args->code.add_to(*cmd);
  args->write.add_to(*cmd);
  cmd->add_option("--manifest", args->manifest,
                  "Also write the JSON manifest (digests) to this file");
  cmd->add_flag("--no-lint", args->no_lint,
                "Write even when lint finds errors in an archive with code/");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_build(*args, context)); });
}

}  // namespace smpack::cli
