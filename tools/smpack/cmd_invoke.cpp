#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "commands.h"
#include "output.h"
#include "smpack/batch_transform.h"
#include "smpack/invoke.h"
#include "smpack/utf8.h"

namespace smpack::cli {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::size_t kRealTimeResponseLimit = 6'000'000;  // InvokeEndpoint's payload limit

struct InvokeArgs {
  std::string source;
  std::string data;
  std::optional<std::string> content_type;
  std::optional<std::string> accept;
  std::optional<std::string> python;
  std::vector<std::string> env;
  std::vector<std::string> batch_inputs;
  std::optional<std::string> output;
  BatchOptions batch;
  double max_payload_mb = 6;
  int warm = 3;
  double timeout_s = 60;
  double load_timeout_s = 300;
  FormatFlag format;
};

// The first executable `name` on PATH, as a shell finds it.
std::optional<std::string> find_on_path(const std::string& name) {
  const char* path = std::getenv("PATH");
  std::istringstream folders(path != nullptr ? path : "/usr/bin:/bin");
  for (std::string folder; std::getline(folders, folder, ':');) {
    const auto candidate = std::filesystem::path(folder.empty() ? "." : folder) / name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return std::nullopt;
}

// What the Python inherits: the shell's basics, never AWS credentials (the handlers run
// offline; a model_fn that reaches for S3 should fail here, not use the caller's keys).
std::map<std::string, std::string> inherited_environment() {
  std::map<std::string, std::string> environment;
  for (const char* name : {"PATH", "HOME", "USER", "LANG", "LC_ALL", "LC_CTYPE", "TMPDIR", "TERM",
                           "VIRTUAL_ENV", "CUDA_VISIBLE_DEVICES", "OMP_NUM_THREADS"}) {
    if (const char* value = std::getenv(name)) environment[name] = value;
  }
  return environment;
}

std::chrono::milliseconds milliseconds(double seconds) {
  return std::chrono::milliseconds(static_cast<long long>(seconds * 1000));
}

std::string format_fixed(double value, int digits) {
  char text[64];
  std::snprintf(text, sizeof(text), "%.*f", digits, value);
  return text;
}

double elapsed_ms(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

std::string gap_list(const std::vector<RequirementGap>& gaps, bool with_installed) {
  std::string text;
  for (const auto& gap : gaps) {
    if (!text.empty()) text += ", ";
    text += gap.requirement + " (line " + std::to_string(gap.line) +
            (with_installed ? ", installed " + gap.installed : "") + ")";
  }
  return text;
}

void print_facts(const HandlerSessionFacts& facts, bool from_path) {
  std::cout << "python:       " << escape_for_terminal(facts.python) << " " << facts.python_version
            << (from_path ? " (python3 on PATH; --python picks another)" : "") << "\n";
  std::cout << "toolkit:      sagemaker-inference " << facts.toolkit_version << ", defaults of "
            << facts.default_handler << "\n";
  std::cout << "handlers:     "
            << (facts.handler_module.empty() ? "none: the toolkit's defaults"
                                             : escape_for_terminal(facts.handler_module))
            << " (profile " << facts.framework << ")\n";
  if (facts.has_requirements) {
    std::cout << "requirements: code/requirements.txt is not installed by smpack invoke";
    if (facts.missing.empty() && facts.other_versions.empty())
      std::cout << "; this Python satisfies it";
    std::cout << "\n";
    if (!facts.missing.empty())
      std::cout << "  missing here: " << escape_for_terminal(gap_list(facts.missing, false))
                << "\n";
    if (!facts.other_versions.empty())
      std::cout << "  other version here: "
                << escape_for_terminal(gap_list(facts.other_versions, true)) << "\n";
  }
}

nlohmann::json facts_json(const HandlerSessionFacts& facts) {
  nlohmann::json report{{"python", facts.python},
                        {"python_version", facts.python_version},
                        {"toolkit_version", facts.toolkit_version},
                        {"default_handler", facts.default_handler},
                        {"handler_module", facts.handler_module},
                        {"profile", facts.framework},
                        {"model_load_ms", facts.load_ms}};
  for (const auto* gaps : {&facts.missing, &facts.other_versions}) {
    auto& list =
        report[gaps == &facts.missing ? "requirements_missing" : "requirements_other_version"];
    list = nlohmann::json::array();
    for (const auto& gap : *gaps)
      list.push_back(
          {{"line", gap.line}, {"requirement", gap.requirement}, {"installed", gap.installed}});
  }
  return report;
}

Result<int> run_batch_inputs(const InvokeArgs& args, const HandlerSession& session,
                             Context& context) {
  if (!args.output) return Error::usage("--batch-input needs --output DIR for the .out files");
  bool failed = false;
  for (const auto& input : args.batch_inputs) {
    BatchOptions job = args.batch;
    job.input = input;
    job.output_dir = *args.output;
    job.content_type = args.content_type;
    job.accept = args.accept;
    job.max_payload_bytes = static_cast<std::uint64_t>(args.max_payload_mb * (1u << 20));
    auto report = run_batch(session, job, context.cancel);
    if (!report) return std::move(report).error();
    for (const auto& failure : report->failures) {
      std::cerr << "smpack: " << escape_for_terminal(describe_failure(failure)) << "\n";
    }
    std::cout << escape_for_terminal(input) << ": " << batch_summary(*report) << "\n";
    failed |= !report->failures.empty();
  }
  return failed ? kExitFindings : kExitOk;
}

Result<int> run_invoke(const InvokeArgs& args, Context& context) {
  if (args.data.empty() == args.batch_inputs.empty())
    return Error::usage("give --data FILE (one request) or --batch-input FILE (records), not both");
  InvokeOptions options;
  const bool from_path = !args.python;
  if (args.python && args.python->find('/') != std::string::npos) {
    // The Python starts in the model folder: a relative path means the caller's.
    options.python = std::filesystem::absolute(*args.python).string();
  } else if (args.python) {
    auto found = find_on_path(*args.python);
    if (!found) return Error::bad_input("--python " + *args.python + ": not found on PATH");
    options.python = *found;
  } else if (auto found = find_on_path("python3")) {
    options.python = *found;
  } else {
    return Error::bad_input("no python3 on PATH; name the model's Python with --python");
  }
  options.inherited_environment = inherited_environment();
  for (const auto& pair : args.env) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0)
      return Error::usage("--env: '" + pair + "' is not KEY=VALUE");
    options.endpoint_environment[pair.substr(0, eq)] = pair.substr(eq + 1);
  }
  options.request_timeout = milliseconds(args.timeout_s);
  options.load_timeout = milliseconds(args.load_timeout_s);
  options.cancel = &context.cancel;

  std::string body;
  if (!args.data.empty()) {
    auto data = read_small_file(context, args.data,
                                static_cast<std::uint64_t>(args.max_payload_mb * (1u << 20)));
    if (!data) return std::move(data).error();
    body = std::move(*data);
  }
  auto artifact = open_artifact(context, args.source);
  if (!artifact) return std::move(artifact).error();
  auto session = HandlerSession::start(*artifact, options);
  if (!session) return std::move(session).error();
  const auto& facts = (*session)->facts();
  if (!args.format.json()) print_facts(facts, from_path);
  if (facts.load_failure) {
    if (args.format.json()) {
      auto report = facts_json(facts);
      report["model_load_failure"] = *facts.load_failure;
      std::cout << report.dump(2) << "\n";
    }
    std::cerr << "smpack: model load failed:\n" << escape_for_terminal(*facts.load_failure);
    if (!facts.load_failure->ends_with('\n')) std::cerr << "\n";
    return kExitFindings;
  }
  if (!args.format.json())
    std::cout << "model load:   " << format_fixed(facts.load_ms, 1) << " ms\n";
  if (!args.batch_inputs.empty()) return run_batch_inputs(args, **session, context);

  const Invocation request{body, args.content_type, args.accept};
  auto start = Clock::now();
  const auto response = (*session)->invoke(request);
  const double first_ms = elapsed_ms(start);
  if (context.cancel.cancelled()) return Error::interrupted();
  std::vector<double> warm_ms;
  for (int i = 0; i < args.warm && response.status == 200; ++i) {
    start = Clock::now();
    const auto warm = (*session)->invoke(request);
    if (context.cancel.cancelled()) return Error::interrupted();
    if (warm.status != 200) break;
    warm_ms.push_back(elapsed_ms(start));
  }
  std::sort(warm_ms.begin(), warm_ms.end());
  const bool text = first_invalid_utf8(response.body) == std::string::npos;
  if (args.output && response.status == 200) {
    std::ofstream file(*args.output, std::ios::binary | std::ios::trunc);
    file << response.body;
    if (!file.flush()) return Error::io(*args.output + ": cannot write");
  }
  if (args.format.json()) {
    auto report = facts_json(facts);
    report["status"] = response.status;
    report["content_type"] = response.content_type;
    report["body"] = text ? response.body : "";
    report["body_bytes"] = response.body.size();
    report["first_response_ms"] = first_ms;
    report["warm_response_ms"] = warm_ms;
    std::cout << report.dump(2) << "\n";
  } else {
    std::cout << "response:     " << response.status << ", "
              << escape_for_terminal(response.content_type) << ", " << response.body.size()
              << " bytes\n";
    std::cout << "first:        " << format_fixed(first_ms, 1) << " ms";
    if (!warm_ms.empty()) {
      std::cout << "; warm: median " << format_fixed(warm_ms[warm_ms.size() / 2], 2) << " ms over "
                << warm_ms.size();
    }
    std::cout << "\n";
    if (response.body.size() > kRealTimeResponseLimit) {
      std::cout << "note:         a real-time endpoint refuses responses over 6 MB; this one "
                   "is "
                << response.body.size() << " bytes\n";
    }
    if (response.status == 200) {
      if (args.output) {
        std::cout << "body:         written to " << escape_for_terminal(*args.output) << "\n";
      } else if (text) {
        std::cout << response.body << (response.body.ends_with('\n') ? "" : "\n");
      } else {
        std::cout << "body:         binary; --output FILE keeps it\n";
      }
    }
  }
  if (response.status != 200) {
    // The toolkit's error body: the handler's message and traceback.
    std::cerr << "smpack: the handlers answered " << response.status << ":\n"
              << escape_for_terminal(response.body);
    if (!response.body.ends_with('\n')) std::cerr << "\n";
    return kExitFindings;
  }
  return kExitOk;
}

template <typename Enum>
void add_record_choice(CLI::App& command, const std::string& name, Enum& value,
                       const std::map<std::string, Enum>& choices, const std::string& help) {
  command.add_option(name, value, help)
      ->transform(CLI::CheckedTransformer(choices, CLI::ignore_case))
      ->capture_default_str();
}

}  // namespace

void add_invoke_command(CLI::App& app, Context& context) {
  auto args = std::make_shared<InvokeArgs>();
  auto* cmd = app.add_subcommand(
      "invoke", "Run the archive's own handlers on a request with the real inference toolkit");
  cmd->add_option("SOURCE", args->source, "model.tar.gz, model directory or s3:// URL")->required();
  cmd->add_option("--data", args->data, "the request body (a file)");
  cmd->add_option("--content-type", args->content_type, "the request's Content-Type");
  cmd->add_option("--accept", args->accept, "the request's Accept");
  cmd->add_option("--python", args->python,
                  "the Python with the model's dependencies and the toolkit (default: python3 "
                  "on PATH)");
  cmd->add_option("--env", args->env, "the endpoint's environment, KEY=VALUE (repeatable)");
  cmd->add_option("--batch-input", args->batch_inputs,
                  "Batch Transform input files or folders, with the record options below");
  add_record_choice(*cmd, "--split-type", args->batch.split, split_type_names(),
                    "None: a file is a request; Line: a line is a record");
  add_record_choice(*cmd, "--batch-strategy", args->batch.strategy, batch_strategy_names(),
                    "MultiRecord: as many records per request as fit in --max-payload-mb");
  add_record_choice(*cmd, "--assemble-with", args->batch.assemble, assemble_with_names(),
                    "Line: a newline after each response");
  cmd->add_option("--max-payload-mb", args->max_payload_mb, "largest request, in MiB")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--output", args->output,
                  "write the response body to this file (the .out folder with --batch-input)");
  cmd->add_option("--warm", args->warm, "warm requests to time after the first")
      ->check(CLI::Range(0, 1000))
      ->capture_default_str();
  cmd->add_option("--timeout", args->timeout_s,
                  "seconds a request may take (the toolkit's default: 60)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  cmd->add_option("--model-load-timeout", args->load_timeout_s, "seconds model_fn may take")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  add_format_flag(*cmd, args->format);
  cmd->callback([args, &context] { context.finish(run_invoke(*args, context)); });
}

}  // namespace smpack::cli
