// smpack-harness: loads the TorchScript model of a SageMaker model archive with LibTorch,
// runs it on the CPU or a GPU, checks its output and times it.
#include <csignal>
#include <fstream>
#include <iostream>

#include "harness_options.h"
#include "harness_run.h"
#include "serving/serving_command.h"

namespace {

smpack::CancelToken cancel_token;

void on_interrupt(int) {
  cancel_token.cancel();
}

// The one place where errors become exit codes (the product's table: 2 usage, 3 bad
// input or I/O, 4 internal, 130 interrupted).
int exit_code(const smpack::Error& error) {
  switch (error.kind) {
    case smpack::ErrorKind::usage:
      return 2;
    case smpack::ErrorKind::bad_input:
    case smpack::ErrorKind::io:
      return 3;
    case smpack::ErrorKind::interrupted:
      return 130;
    case smpack::ErrorKind::internal:
      return 4;
  }
  return 4;
}

int run(int argc, char** argv) {
  if (smpack::harness::is_serving_command(argc, argv))
    return smpack::harness::run_serving_command(argc, argv);
  smpack::harness::HarnessOptions options;
  if (auto stop = smpack::harness::parse_command_line(argc, argv, options)) return *stop;
  std::signal(SIGINT, on_interrupt);
  auto report = smpack::harness::run_harness(options, cancel_token);
  if (!report) {
    std::cerr << "smpack-harness: error: " << report.error().message << "\n";
    return exit_code(report.error());
  }
  const auto text = smpack::harness::render_text(*report);
  if (options.json_path) {
    const auto json = smpack::harness::render_json(*report);
    if (*options.json_path == "-") {
      std::cerr << text;
      std::cout << json;
    } else {
      std::cout << text;
      std::ofstream file(*options.json_path, std::ios::binary | std::ios::trunc);
      file << json;
      if (!file.flush()) {
        std::cerr << "smpack-harness: error: cannot write " << *options.json_path << "\n";
        return 3;
      }
    }
  } else {
    std::cout << text;
  }
  if (!report->passed()) {
    std::cerr << "smpack-harness: a check failed\n";
    return 1;
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& error) {
    std::cerr << "smpack-harness: internal error: " << error.what() << "\n";
    return 4;
  }
}
