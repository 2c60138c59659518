#include "harness_options.h"

#include <CLI/CLI.hpp>
#include <iostream>

namespace smpack::harness {

namespace {

struct UncheckedText {
  std::vector<std::string> inputs;
  std::optional<std::string> dtype;
};

void declare_options(CLI::App& app, HarnessOptions& options, UncheckedText& unchecked) {
  app.description(
      "Load the TorchScript model out of a SageMaker model archive (or model directory), "
      "run it on the CPU or a GPU, check its output and time it.");
  app.add_option("source", options.source, "model.tar.gz or model directory")->required();
  app.add_option("--model", options.model_member,
                 "member holding the model (default: model.pt, else the only .pt/.pth at the "
                 "root, as the PyTorch serving container picks)");
  app.add_option("--device", options.device, "cpu, cuda or cuda:N (default: cuda if available)");
  app.add_option("--input", unchecked.inputs,
                 "random input SHAPE:DTYPE[:HIGH] (seeded; repeat for several inputs), e.g. "
                 "8x3x224x224:float32 or 1x128:int64:30522");
  app.add_option("--input-file", options.input_file,
                 "inputs saved by torch.save: a tensor, or a list/tuple of tensors");
  app.add_option("--expect-file", options.expect_file,
                 "expected outputs saved by torch.save, compared with --rtol/--atol");
  app.add_option("--rtol", options.rtol, "relative tolerance (default: per output dtype)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--atol", options.atol, "absolute tolerance (default: per output dtype)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--dtype", unchecked.dtype,
                 "also run in half precision (float16 or bfloat16) and check it with its own "
                 "tolerance");
  app.add_option("--seed", options.seed, "seed of the random inputs")->capture_default_str();
  app.add_option("--warmup", options.warmup, "untimed runs before timing")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--iters", options.iters, "timed runs (0: no timing)")
      ->check(CLI::NonNegativeNumber)
      ->capture_default_str();
  app.add_option("--batch-sweep", options.batch_sweep,
                 "batch sizes to time, e.g. 1,2,4,8; stops at the first out-of-memory")
      ->delimiter(',')
      ->check(CLI::PositiveNumber);
  app.add_option("--json", options.json_path,
                 "write the full report as JSON to this file (- for stdout)");
  app.add_option("--max-model-bytes", options.max_model_bytes,
                 "refuse a model member larger than this")
      ->capture_default_str();
}

Result<void> check_options(HarnessOptions& options, const UncheckedText& unchecked) {
  const auto& input_texts = unchecked.inputs;
  const auto& dtype_text = unchecked.dtype;
  for (const auto& text : input_texts) {
    auto spec = parse_input_spec(text);
    if (!spec) return std::move(spec).error();
    options.inputs.push_back(std::move(*spec));
  }
  if (!options.inputs.empty() && options.input_file) {
    return Error::usage("--input and --input-file are exclusive: give one source of inputs");
  }
  if (dtype_text && *dtype_text != "float32") {
    auto type = parse_element_type(*dtype_text);
    if (!type || (*type != ElementType::float16 && *type != ElementType::bfloat16)) {
      return Error::usage("--dtype must be float32, float16 or bfloat16, not '" + *dtype_text +
                          "'");
    }
    options.half_dtype = *type;
  }
  if (options.device) {
    const auto& device = *options.device;
    const bool cuda_with_index = device.starts_with("cuda:") && device.size() > 5 &&
                                 device.find_first_not_of("0123456789", 5) == std::string::npos;
    if (device != "cpu" && device != "cuda" && !cuda_with_index) {
      return Error::usage("--device must be cpu, cuda or cuda:N, not '" + device + "'");
    }
  }
  return {};
}

}  // namespace

std::optional<int> parse_command_line(int argc, const char* const* argv, HarnessOptions& options) {
  CLI::App app{"", "smpack-harness"};
  UncheckedText unchecked;
  declare_options(app, options, unchecked);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    const int code = app.exit(error);
    return code == 0 ? 0 : 2;
  }
  if (auto checked = check_options(options, unchecked); !checked) {
    std::cerr << "smpack-harness: error: " << checked.error().message << "\n";
    return 2;
  }
  return std::nullopt;
}

}  // namespace smpack::harness
