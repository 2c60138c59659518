// The command line of smpack-harness, parsed with CLI11 into plain values.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "input_spec.h"
#include "smpack/result.h"

namespace smpack::harness {

struct HarnessOptions {
  std::string source;                       // archive or model directory
  std::optional<std::string> model_member;  // --model; else the serving container's choice
  std::optional<std::string> device;        // "cpu", "cuda", "cuda:N"; unset: cuda if present
  std::vector<InputSpec> inputs;            // --input, in order
  std::optional<std::string> input_file;    // torch.save of a tensor or list/tuple of tensors
  std::optional<std::string> expect_file;   // same format: the expected outputs
  std::optional<double> rtol;               // override the per-dtype defaults
  std::optional<double> atol;
  std::optional<ElementType> half_dtype;  // --dtype float16|bfloat16: also run in half
  std::uint64_t seed = 0;
  int warmup = 5;
  int iters = 20;
  std::vector<std::int64_t> batch_sweep;
  std::optional<std::string> json_path;  // "-" for stdout
  std::uint64_t max_model_bytes = 64ull << 30;
};

// Parses argv into `options`. Returns an exit code when the program should stop there
// (0 after --help, 2 after a usage error, the message already printed by CLI11 or to
// stderr), std::nullopt when it should go on.
std::optional<int> parse_command_line(int argc, const char* const* argv, HarnessOptions& options);

}  // namespace smpack::harness
