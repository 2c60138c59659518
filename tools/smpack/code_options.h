// The code-selecting options shared by build, stage and add-code.
#pragma once

#include <string>

#include "command.h"
#include "smpack/archive_writer.h"
#include "smpack/build.h"

namespace smpack::cli {

struct CodeOptions {
  std::string code_dir, entry_point, requirements;
  bool follow_symlinks = false;
  std::vector<std::string> exclude;
  bool no_default_excludes = false;

  void add_to(CLI::App& command) {
    command.add_option("--code", code_dir,
                       "Directory to store as code/ (replaces code/; --entry-point or "
                       "--requirements alone is added to the code/ there)");
    command.add_option("--entry-point", entry_point, "Handler module to store as code/<name>");
    command.add_option("--requirements", requirements, "File to store as code/requirements.txt");
    command.add_flag("--follow-symlinks", follow_symlinks,
                     "Store what symlinks point to instead of refusing them");
    command.add_option("--exclude", exclude,
                       "Leave out what matches this shell pattern (a name or a relative path, as "
                       "tar --exclude); repeatable");
    command.add_flag("--no-default-excludes", no_default_excludes,
                     "Keep .git, __pycache__, .ipynb_checkpoints and .DS_Store, which are left "
                     "out by default");
  }

  // A SourceSpec with the code parts filled in.
  SourceSpec spec(const std::string& model_dir = {}) const {
    SourceSpec spec;
    spec.model_dir = model_dir;
    if (!code_dir.empty()) spec.code_dir = code_dir;
    if (!entry_point.empty()) spec.entry_point = entry_point;
    if (!requirements.empty()) spec.requirements = requirements;
    spec.symlinks = follow_symlinks ? SymlinkPolicy::follow : SymlinkPolicy::refuse;
    spec.exclude = exclude;
    spec.default_excludes = !no_default_excludes;
    return spec;
  }
};

}  // namespace smpack::cli

namespace smpack::cli {

// How archives are written: shared by build and add-code.
struct WriteFlags {
  int level = kDefaultLevel;
  unsigned threads = 0;
  std::string mtime;
  std::uint64_t chunk_bytes = kDefaultChunkBytes;

  void add_to(CLI::App& command) {
    command
        .add_option("--level", level,
                    "Compression level: 0 stored, 1 (default) Huffman-only for weights and ISA-L "
                    "for the rest, 2-3 ISA-L, 4-9 zlib")
        ->check(CLI::Range(0, 9))
        ->capture_default_str();
    command.add_option("--threads", threads, "Compression threads (0: all cores)")
        ->capture_default_str();
    command.add_option(
        "--mtime", mtime,
        "Member mtime: epoch seconds or UTC date (default: SOURCE_DATE_EPOCH, else 1980-01-01)");
    command.add_option("--chunk-size", chunk_bytes, "Uncompressed bytes per gzip member")
        ->capture_default_str();
  }

  // WriteOptions from the flags, SOURCE_DATE_EPOCH and the context's cancel token.
  Result<WriteOptions> resolve(Context& context) const {
    WriteOptions options;
    options.level = level;
    options.threads = threads;
    options.chunk_bytes = chunk_bytes;
    options.cancel = &context.cancel;
    auto resolved = resolve_mtime(mtime.empty() ? std::nullopt : std::optional<std::string>(mtime),
                                  context.source_date_epoch);
    if (!resolved && !mtime.empty()) return std::move(resolved).error().with_context("--mtime");
    if (!resolved) return std::move(resolved).error();
    options.mtime = *resolved;
    return options;
  }
};

}  // namespace smpack::cli
