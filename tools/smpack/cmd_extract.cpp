#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/extract.h"

namespace smpack::cli {
namespace {

struct ExtractArgs {
  std::string archive;
  std::string destination;
  bool skip_unsafe = false;
  bool overwrite = false;
  FormatFlag format;
};

Result<int> run_extract(const ExtractArgs& args, Context& context) {
  ExtractOptions options;
  options.unsafe = args.skip_unsafe ? UnsafeMemberPolicy::skip : UnsafeMemberPolicy::refuse;
  options.cancel = &context.cancel;
  options.overwrite = args.overwrite;
  auto artifact = open_artifact(context, args.archive);
  if (!artifact) return std::move(artifact).error();
  TerminalProgress progress(context, "extracting");
  options.progress = progress.sink();
  auto report = extract_archive(*artifact, args.destination, options);
  progress.finish();
  if (!report) return std::move(report).error();
  for (const auto& s : report->skipped) print_warning(context, "skipped " + s);
  if (args.format.json()) {
    std::cout << extract_json(args.archive, args.destination, *report);
  } else if (!context.quiet) {
    std::cout << report->files << " files, " << report->directories << " directories, "
              << report->links << " links, " << human_bytes(report->bytes) << " into "
              << escape_for_terminal(args.destination) << "\n";
  }
  return report->skipped.empty() ? kExitOk : kExitFindings;
}

}  // namespace

void add_extract_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<ExtractArgs>();
  auto* cmd = app.add_subcommand("extract", "Extract safely: nothing is ever written outside DIR");
  cmd->add_option("ARCHIVE", args->archive, "model.tar.gz")->required();
  cmd->add_option("-C,--directory", args->destination, "Destination directory")->required();
  cmd->add_flag("--skip-unsafe", args->skip_unsafe,
                "Skip unsafe members (exit 1) instead of stopping (exit 3)");
  cmd->add_flag("--overwrite", args->overwrite,
                "Replace files and links already in DIR (default: refuse, exit 3)");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_extract(*args, context)); });
}

}  // namespace smpack::cli
