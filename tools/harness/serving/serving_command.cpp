#include "serving/serving_command.h"

#include <torch/torch.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <thread>

#include "cuda_device.h"
#include "serving/http_server.h"
#include "serving/pipeline.h"
#include "serving/torchscript_endpoint.h"
#include "smpack/batch_transform.h"

namespace smpack::harness {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMiB = 1u << 20;

struct EndpointOptions {
  std::vector<std::string> archives;  // the first ARCHIVE, then --pipeline's, in order
  std::optional<std::string> model_member;
  std::optional<std::string> device;
  std::uint64_t max_model_bytes = 64ull << 30;
  double max_payload_mb = 6;
};

void declare_endpoint(CLI::App& command, EndpointOptions& options,
                      std::vector<std::string>& pipeline) {
  command.add_option("archive", options.archives, "model.tar.gz, model directory or s3:// URL")
      ->required()
      ->expected(1);
  command.add_option("--pipeline", pipeline,
                     "further stages of an inference pipeline (2 to 5 in all): each stage's "
                     "response, with its content type, is the next one's request");
  command.add_option("--model", options.model_member,
                     "member holding the first stage's model (default: model.pt, else the only "
                     ".pt/.pth at the root)");
  command.add_option("--device", options.device,
                     "cpu, cuda or cuda:N (default: cuda if available)");
  command
      .add_option("--max-payload-mb", options.max_payload_mb,
                  "largest request body, in MiB (SageMaker's default: 6)")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  command
      .add_option("--max-model-bytes", options.max_model_bytes,
                  "refuse a model member larger than this")
      ->capture_default_str();
}

std::string environment(const char* name, std::string fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// Each stage loads its own archive's model, as each container of a pipeline does.
Result<std::unique_ptr<InvocationHandler>> load_chain(const EndpointOptions& options,
                                                      const CancelToken& cancel) {
  auto device = choose_device(options.device);
  if (!device) return std::move(device).error();
  // What the container reads from its environment.
  const auto accept = environment("SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT", "application/json");
  const auto program = environment("SAGEMAKER_PROGRAM", "");
  std::vector<std::unique_ptr<InvocationHandler>> stages;
  for (std::size_t i = 0; i < options.archives.size(); ++i) {
    const auto start = Clock::now();
    auto model =
        read_served_model(options.archives[i], i == 0 ? options.model_member : std::nullopt,
                          program, options.max_model_bytes, cancel);
    if (!model) return std::move(model).error();
    if (cancel.cancelled()) return Error::interrupted();
    auto endpoint = TorchScriptEndpoint::load(*model, *device, accept);
    if (!endpoint) return std::move(endpoint).error();
    if (cancel.cancelled()) return Error::interrupted();
    std::cerr << "smpack-harness: loaded " << model->member << " from " << model->source << " onto "
              << device->str() << " in "
              << std::chrono::duration<double, std::milli>(Clock::now() - start).count() << " ms\n";
    stages.push_back(std::move(*endpoint));
  }
  if (stages.size() == 1) return std::move(stages.front());
  return std::unique_ptr<InvocationHandler>(new Pipeline(std::move(stages)));
}

int exit_code(const Error& error) {
  std::cerr << "smpack-harness: error: " << error.message << "\n";
  switch (error.kind) {
    case ErrorKind::usage:
      return 2;
    case ErrorKind::bad_input:
    case ErrorKind::io:
      return 3;
    case ErrorKind::interrupted:
      return 130;
    case ErrorKind::internal:
      return 4;
  }
  return 4;
}

std::optional<int> parse(CLI::App& app, int argc, const char* const* argv, EndpointOptions& options,
                         const std::vector<std::string>& pipeline) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return app.exit(error) == 0 ? 0 : 2;
  }
  options.archives.insert(options.archives.end(), pipeline.begin(), pipeline.end());
  if (options.archives.size() > 5) {
    std::cerr << "smpack-harness: error: a pipeline has 2 to 5 stages, not "
              << options.archives.size() << "\n";
    return 2;
  }
  return std::nullopt;
}

// Request threads share the cores with Torch's intra-op threads: split them so that the
// two do not oversubscribe the machine.
void share_cores(int request_threads) {
  const int cores = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(std::max(1, cores / std::max(1, request_threads)));
}

int serve(int argc, const char* const* argv) {
  CLI::App app{
      "Serve an archive's TorchScript model as a SageMaker endpoint does: GET /ping, "
      "POST /invocations with the PyTorch container's default handlers.",
      "smpack-harness serve"};
  EndpointOptions options;
  std::vector<std::string> pipeline;
  ServerOptions server;
  std::optional<std::string> access_log;
  declare_endpoint(app, options, pipeline);
  app.add_option("--host", server.host, "address to listen on")->capture_default_str();
  app.add_option("--port", server.port, "port (0: any free port)")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--threads", server.threads, "request threads; the model is loaded once")
      ->check(CLI::Range(1, 256))
      ->capture_default_str();
  app.add_option("--access-log", access_log, "file for the access log (default: stderr; - off)");
  if (auto stop = parse(app, argc - 1, argv + 1, options, pipeline)) return *stop;
  server.max_payload_bytes = static_cast<std::uint64_t>(options.max_payload_mb * kMiB);
  std::ofstream log_file;
  if (!access_log) {
    server.access_log = &std::cerr;
  } else if (*access_log != "-") {
    log_file.open(*access_log, std::ios::app);
    if (!log_file) return exit_code(Error::io(*access_log + ": cannot write"));
    server.access_log = &log_file;
  }
  share_cores(server.threads);
  auto served = serve_http(
      server,
      [&](int port) {
        std::cout << "smpack-harness: listening on http://" << server.host << ":" << port
                  << std::endl;
      },
      [&](const CancelToken& cancel) { return load_chain(options, cancel); });

  if (!served) return exit_code(served.error());
  std::cerr << "smpack-harness: stopped\n";
  return 0;
}

CancelToken batch_cancel;
void on_interrupt(int) {
  batch_cancel.cancel();
}

template <typename Enum>
CLI::Option* add_choice(CLI::App& app, const std::string& name, Enum& value,
                        const std::map<std::string, Enum>& choices, const std::string& help) {
  return app.add_option(name, value, help)
      ->transform(CLI::CheckedTransformer(choices, CLI::ignore_case))
      ->capture_default_str();
}

int batch(int argc, const char* const* argv) {
  CLI::App app{
      "Run a Batch Transform job offline: each input file's records go through the "
      "PyTorch container's default handlers, and FILE.out holds the results.",
      "smpack-harness batch"};
  EndpointOptions options;
  std::vector<std::string> pipeline;
  BatchOptions job;
  std::string input;
  std::string output;
  declare_endpoint(app, options, pipeline);
  app.add_option("--input", input, "input file, or folder of input files")->required();
  app.add_option("--output", output, "folder for the .out files")->required();
  app.add_option("--content-type", job.content_type, "ContentType of the requests");
  app.add_option("--accept", job.accept, "Accept of the requests (default: the model's default)");
  add_choice(app, "--split-type", job.split, split_type_names(),
             "None: a file is a request; Line: a line is a record");
  add_choice(app, "--batch-strategy", job.strategy, batch_strategy_names(),
             "MultiRecord: as many records per request as fit in --max-payload-mb");
  add_choice(app, "--assemble-with", job.assemble, assemble_with_names(),
             "Line: a newline after each response");
  if (auto stop = parse(app, argc - 1, argv + 1, options, pipeline)) return *stop;
  job.input = input;
  job.output_dir = output;
  job.max_payload_bytes = static_cast<std::uint64_t>(options.max_payload_mb * kMiB);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  auto chain = load_chain(options, batch_cancel);
  if (!chain) return exit_code(chain.error());
  auto report = run_batch(**chain, job, batch_cancel);
  if (!report) return exit_code(report.error());
  for (const auto& failure : report->failures)
    std::cerr << "smpack-harness: " << describe_failure(failure) << "\n";
  std::cout << batch_summary(*report) << "\n";
  return report->failures.empty() ? 0 : 1;
}

}  // namespace

bool is_serving_command(int argc, const char* const* argv) {
  return argc > 1 && (std::string_view(argv[1]) == "serve" || std::string_view(argv[1]) == "batch");
}

int run_serving_command(int argc, const char* const* argv) {
  return std::string_view(argv[1]) == "serve" ? serve(argc, argv) : batch(argc, argv);
}

}  // namespace smpack::harness
