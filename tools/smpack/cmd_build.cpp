#include <ctime>
#include <fstream>
#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/archive_writer.h"

namespace smpack::cli {
namespace {

struct BuildArgs {
  std::string source_dir;
  std::string output;
  std::string code_dir, entry_point, requirements;
  int level = kDefaultLevel;
  unsigned threads = 0;
  std::string mtime;
  std::string manifest;
  bool follow_symlinks = false;
  std::uint64_t chunk_bytes = kDefaultChunkBytes;
  FormatFlag format;
};

// Seconds since the epoch, or an ISO 8601 UTC date ("2024-05-01" or "2024-05-01T12:00:00Z").
Result<std::int64_t> parse_mtime(const std::string& text) {
  char* end = nullptr;
  long long seconds = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0' && seconds >= 0) return static_cast<std::int64_t>(seconds);
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (rest && *rest == 'T') rest = strptime(rest + 1, "%H:%M:%S", &tm);
  if (rest && (*rest == 'Z')) ++rest;
  if (!rest || *rest != '\0') {
    return Error::usage(
        "--mtime: '" + text +
        "' is neither seconds since the epoch nor a UTC date like 2024-05-01T00:00:00Z");
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

Result<int> run_build(const BuildArgs& args, Context& context) {
  SourceSpec spec;
  spec.model_dir = args.source_dir;
  if (!args.code_dir.empty()) spec.code_dir = args.code_dir;
  if (!args.entry_point.empty()) spec.entry_point = args.entry_point;
  if (!args.requirements.empty()) spec.requirements = args.requirements;
  spec.symlinks = args.follow_symlinks ? SymlinkPolicy::follow : SymlinkPolicy::refuse;
  auto sources = collect_sources(spec);
  if (!sources) return std::move(sources).error();

  WriteOptions options;
  options.level = args.level;
  options.threads = args.threads;
  options.chunk_bytes = args.chunk_bytes;
  options.cancel = &context.cancel;
  if (!args.mtime.empty()) {
    auto mtime = parse_mtime(args.mtime);
    if (!mtime) return std::move(mtime).error();
    options.mtime = *mtime;
  } else if (context.source_date_epoch) {
    options.mtime = *context.source_date_epoch;
  }
  TerminalProgress progress(context, "building");
  options.progress = progress.sink();
  auto written = write_archive(*sources, args.output, options);
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
  cmd->add_option("--code", args->code_dir, "Directory to store as code/");
  cmd->add_option("--entry-point", args->entry_point, "Handler module to store as code/<name>");
  cmd->add_option("--requirements", args->requirements, "File to store as code/requirements.txt");
  cmd->add_option("--level", args->level, "Compression level: 0 stored, 1-3 ISA-L, 4-9 zlib")
      ->check(CLI::Range(0, 9))
      ->capture_default_str();
  cmd->add_option("--threads", args->threads, "Compression threads (0: all cores)")
      ->capture_default_str();
  cmd->add_option(
      "--mtime", args->mtime,
      "Member mtime: epoch seconds or UTC date (default: SOURCE_DATE_EPOCH, else 1980-01-01)");
  cmd->add_option("--manifest", args->manifest,
                  "Also write the JSON manifest (digests) to this file");
  cmd->add_option("--chunk-size", args->chunk_bytes, "Uncompressed bytes per gzip member")
      ->capture_default_str();
  cmd->add_flag("--follow-symlinks", args->follow_symlinks,
                "Store what symlinks point to instead of refusing them");
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_build(*args, context)); });
}

}  // namespace smpack::cli
