// What every subcommand shares: how it registers, how it reports its outcome,
// and the terminal facts it may use. Each cmd_*.cpp adds one subcommand.
#pragma once

#include <CLI/CLI.hpp>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/result.h"
#include "smpack/s3.h"
#include "smpack/sdk_version.h"

namespace smpack::cli {

// Exit codes, one meaning each (docs/cli.md).
enum ExitCode : int {
  kExitOk = 0,
  kExitFindings = 1,  // it ran and found problems
  kExitUsage = 2,
  kExitBadInput = 3,  // unreadable, corrupt or unsafe input, or an I/O failure
  kExitInternal = 4,
  kExitInterrupted = 130,
};

int exit_code_for(const Error& error);

struct Context {
  CancelToken cancel;
  bool stdout_is_terminal = false;
  bool stderr_is_terminal = false;
  bool color = false;  // stderr on a terminal and NO_COLOR unset
  bool quiet = false;
  std::optional<std::string> source_date_epoch;  // from the environment, as set

  // Reached on the first s3:// URL, with the process's AWS environment.
  std::optional<S3Client> s3;
  std::unique_ptr<ProgressSink> s3_progress;

  // The subcommand's outcome: an exit code (0 or 1) or an error for main to report.
  std::optional<Result<int>> outcome;
  void finish(Result<int> result) { outcome = std::move(result); }
};

// The S3 client when `location` is an s3:// URL (reached on the first one), else the one
// reached before or nullptr (artifact_access.cpp).
Result<const S3Client*> s3_for(Context& context, const std::string& location);
// What a command names: a local path or an s3:// URL.
Result<Artifact> open_artifact(Context& context, const std::string& location,
                               const ReadLimits& limits = {});

// A small file (a signature, a manifest) at a local path or an s3:// URL: read whole
// (bad_input beyond max_bytes), or written whole.
Result<std::string> read_small_file(Context& context, const std::string& location,
                                    std::uint64_t max_bytes = 64ull << 20);
Result<void> write_small_file(Context& context, const std::string& location,
                              const std::string& data);
// The signature every cmd_*.cpp exports.
using AddCommand = void (*)(CLI::App& app, Context& context);

// Adds `--json` and `--format text|json` (json when either is given).
struct FormatFlag {
  std::string format = "text";
  bool json_flag = false;
  bool json() const { return json_flag || format == "json"; }
};
void add_format_flag(CLI::App& command, FormatFlag& flag, bool with_sarif = false);
// Adds `--sdk v2|v3`: the SDK version of the deploy calls printed (default v3).
struct SdkFlag {
  std::string text = "v3";
  // The option's check admits only what parse_sdk_version takes.
  SdkVersion value() const { return parse_sdk_version(text).value_or(SdkVersion::v3); }
};
void add_sdk_flag(CLI::App& command, SdkFlag& flag);

}  // namespace smpack::cli
