#include <fstream>
#include <iostream>
#include <sstream>

#include "commands.h"
#include "output.h"
#include "smpack/archive_scan.h"
#include "smpack/digest.h"

namespace smpack::cli {
namespace {

struct VerifyArgs {
  std::string archive;
  std::string manifest;
  std::string sha256;
  FormatFlag format;
};

Result<int> run_verify(const VerifyArgs& args, Context& context) {
  std::optional<Manifest> expected;
  if (!args.manifest.empty()) {
    std::ifstream in(args.manifest, std::ios::binary);
    if (!in) return Error::io(args.manifest + ": cannot open the manifest");
    std::stringstream text;
    text << in.rdbuf();
    auto parsed = manifest_from_json(text.str());
    if (!parsed) return std::move(parsed).error().with_context(args.manifest);
    expected = std::move(*parsed);
  }
  TerminalProgress progress(context, "verifying");
  ScanOptions options;
  options.check_index = true;
  options.cancel = &context.cancel;
  options.progress = progress.sink();
  auto scan = scan_archive(args.archive, options);
  progress.finish();
  if (!scan) return std::move(scan).error();
  if (scan->container != ContainerKind::gzip && scan->container != ContainerKind::plain_tar) {
    return Error::bad_input(args.archive + " is " + std::string(describe(scan->container)) + " (" +
                            std::string(name_of(scan->container)) +
                            "), not gzip: SageMaker needs a gzip-compressed tar");
  }

  std::vector<std::string> problems = scan->index_problems;
  std::string archive_sha;
  if (!args.sha256.empty() || (expected && !expected->archive_sha256.empty())) {
    auto digests = digest_file(args.archive, 0, &context.cancel);
    if (!digests) return std::move(digests).error();
    archive_sha = digests->sha256;
    if (!args.sha256.empty() && archive_sha != args.sha256) {
      problems.push_back("archive SHA-256 is " + archive_sha + ", expected " + args.sha256);
    }
  }
  if (expected) {
    auto differences = compare_with_manifest(*scan, *expected, archive_sha);
    problems.insert(problems.end(), differences.begin(), differences.end());
  }
  if (args.format.json()) {
    print_json({{"archive", args.archive},
                {"ok", problems.empty()},
                {"members", scan->entries.size()},
                {"gzip_members", scan->gzip_members},
                {"smpack_index", scan->index.has_value()},
                {"problems", problems}});
  } else {
    for (const auto& p : problems)
      std::cout << escape_name(args.archive) << ": " << escape_name(p) << "\n";
    if (problems.empty() && !context.quiet) {
      std::cout << escape_name(args.archive) << ": OK (" << scan->entries.size() << " members, "
                << scan->gzip_members << " gzip members, CRCs"
                << (scan->index ? ", smpack index" : "") << (expected ? ", manifest" : "")
                << (archive_sha.empty() ? "" : ", SHA-256") << " checked)\n";
    }
  }
  return problems.empty() ? kExitOk : kExitFindings;
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
