#include <algorithm>
#include <iostream>

#include "commands.h"
#include "output.h"
#include "smpack/lint.h"

namespace smpack::cli {
namespace {

struct LintArgs {
  std::vector<std::string> paths;
  std::string profile;
  std::string fail_on = "error";
  std::vector<std::string> disabled;
  std::vector<std::string> env;
  std::string layout = "archive";
  bool list_rules = false;
  SdkFlag sdk;
  FormatFlag format;
};

Result<LintOptions> make_options(const LintArgs& args) {
  LintOptions options;
  options.sdk = args.sdk.value();
  if (!args.profile.empty()) {
    options.profile = parse_profile(args.profile);
    if (!options.profile) {
      std::string known;
      for (auto profile : all_profiles())
        known += (known.empty() ? "" : ", ") + std::string(name_of(profile));
      return Error::usage("--profile: unknown profile '" + args.profile + "' (one of " + known +
                          ")");
    }
  }
  for (const auto& pair : args.env) {
    auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error::usage("--env: '" + pair + "' is not KEY=VALUE");
    }
    options.env[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  options.prefix_layout = args.layout == "prefix";
  options.disabled.insert(args.disabled.begin(), args.disabled.end());
  if (auto valid = validate_rule_ids(options.disabled); !valid) return std::move(valid).error();
  return options;
}

Result<int> run_lint(const LintArgs& args, Context& context) {
  if (args.list_rules) {
    std::cout << (args.format.json() ? format_rule_list_json() : format_rule_list_text());
    return kExitOk;
  }
  if (args.paths.empty()) return Error::usage("lint: give at least one archive or directory");
  auto options = make_options(args);
  if (!options) return std::move(options).error();
  const Severity threshold = parse_severity(args.fail_on).value_or(Severity::error);

  std::vector<LintReport> reports;
  for (const auto& path : args.paths) {
    if (options->prefix_layout && is_s3_url(path) && !path.ends_with("/")) {
      // An S3Uri of "s3://b/model" also takes the keys of s3://b/model-v2/...
      return Error::usage(path +
                          ": an S3ModelDataSource prefix ends in '/' (without it "
                          "SageMaker also takes the keys of every prefix that starts "
                          "the same): use " +
                          path + "/");
    }
    auto artifact = open_artifact(context, path);
    if (!artifact && artifact.error().kind == ErrorKind::bad_input) {
      // A damaged index: still a report, so that CI's SARIF or JSON carries the reason.
      reports.push_back(unreadable_input_report(path, artifact.error()));
      continue;
    }
    if (!artifact) return std::move(artifact).error();
    TerminalProgress progress(context, "linting");
    auto report = lint_artifact(*artifact, *options, &context.cancel, progress.sink());
    progress.finish();
    if (!report) return std::move(report).error();
    reports.push_back(std::move(*report));
  }

  if (args.format.format == "sarif") {
    std::cout << format_lint_sarif(reports, SMPACK_VERSION);
  } else if (args.format.json()) {
    std::cout << format_lint_json(reports);
  } else {
    std::cout << format_lint_text(reports);
  }
  for (const auto& report : reports) {
    if (!report.unsafe_input) continue;
    const Finding& first =
        *std::find_if(report.findings.begin(), report.findings.end(),
                      [](const Finding& f) { return is_unsafe_input_rule(f.rule_id); });
    // A finding with no member stopped the reading (archive-unreadable, -ambiguous).
    print_error(context, first.member.empty()
                             ? first.message
                             : report.target + ": member '" + first.member +
                                   "' is unsafe to extract [" + first.rule_id + "]");
    return kExitBadInput;
  }
  const bool failed = std::any_of(reports.begin(), reports.end(), [&](const LintReport& r) {
    return r.has_findings_at(threshold);
  });
  return failed ? kExitFindings : kExitOk;
}

}  // namespace

void add_lint_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<LintArgs>();
  auto* cmd = app.add_subcommand(
      "lint", "Check archives or model directories against the SageMaker contract");
  cmd->add_option("PATH", args->paths,
                  "model.tar.gz files or model directories, local or s3:// (an object, or a "
                  "prefix/ with a trailing slash)");
  cmd->add_option("--profile", args->profile,
                  "Serving container: pytorch, huggingface, tensorflow, sklearn, xgboost, "
                  "djl-lmi, tgi, tei, generic (default: detected from the contents)");
  cmd->add_option("--fail-on", args->fail_on, "Exit 1 on findings at or above this severity")
      ->check(CLI::IsMember({"error", "warning", "info"}))
      ->capture_default_str();
  cmd->add_option("--disable", args->disabled, "Rule ID not to run (repeatable)");
  cmd->add_option("--env", args->env,
                  "KEY=VALUE the endpoint will have, e.g. HF_TASK, SAGEMAKER_PROGRAM (repeatable)");
  cmd->add_option("--layout", args->layout,
                  "archive: a model.tar.gz or a directory to be archived; prefix: the files of an "
                  "uncompressed S3ModelDataSource (an s3://bucket/prefix/ always is)")
      ->check(CLI::IsMember({"archive", "prefix"}))
      ->capture_default_str();
  cmd->add_flag("--list-rules", args->list_rules, "List the rules and exit");
  add_sdk_flag(*cmd, args->sdk);
  add_format_flag(*cmd, args->format, /*with_sarif=*/true);
  cmd->callback([args, &context] { context.finish(run_lint(*args, context)); });
}

}  // namespace smpack::cli
