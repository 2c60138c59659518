#include "harness_run.h"

#include <torch/cuda.h>
#include <torch/version.h>

#include <fstream>
#include <sstream>

#include "benchmark.h"
#include "cuda_device.h"
#include "input_tensors.h"
#include "model_choice.h"
#include "output_checks.h"
#include "saved_tensors.h"
#include "smpack/artifact.h"
#include "smpack/s3.h"
#include "torch_model.h"
#include "torch_types.h"

namespace smpack::harness {
namespace {

using Clock = std::chrono::steady_clock;

CheckResult failed(std::string name, std::string detail) {
  return {std::move(name), false, std::move(detail), std::nullopt, std::nullopt};
}

Result<std::string> read_local_file(const std::string& path, std::uint64_t max_bytes) {
  std::ifstream file(path, std::ios::binary);
  std::error_code error;
  const auto size = std::filesystem::file_size(path, error);
  if (!file || error) return Error::io(path + ": cannot read");
  if (size > max_bytes) return Error::bad_input(path + ": larger than --max-model-bytes");
  std::ostringstream bytes;
  bytes << file.rdbuf();
  if (!file) return Error::io(path + ": read failed");
  return std::move(bytes).str();
}

Result<std::vector<at::Tensor>> tensors_from_file(const std::string& path,
                                                  std::uint64_t max_bytes) {
  auto bytes = read_local_file(path, max_bytes);
  if (!bytes) return std::move(bytes).error();
  auto tensors = load_tensor_list(*bytes);
  if (!tensors) return std::move(tensors).error().with_context(path);
  return tensors;
}

// Numerical checks are made without TF32 (which cuDNN convolutions use by default and
// which would cost float32 three decimal digits); timings use the library defaults.
class StrictFloat32 {
 public:
  StrictFloat32() : saved_(at::globalContext().allowTF32CuDNN()) {
    at::globalContext().setAllowTF32CuDNN(false);
  }
  ~StrictFloat32() { at::globalContext().setAllowTF32CuDNN(saved_); }
  StrictFloat32(const StrictFloat32&) = delete;
  StrictFloat32& operator=(const StrictFloat32&) = delete;

 private:
  bool saved_;
};

// The float64 reference on the CPU; where the model refuses float64 (fixed-dtype ops),
// float32 on the CPU stands in and the report says so.
struct Reference {
  std::vector<at::Tensor> outputs;
  std::string label;
};

std::optional<Reference> cpu_reference(const std::string& model_bytes,
                                       const std::vector<at::Tensor>& cpu_inputs,
                                       const c10::Device& device, HarnessReport& report) {
  auto module = load_torchscript(model_bytes, c10::Device(c10::kCPU));
  if (!module) return std::nullopt;
  auto reference_module = module->deepcopy();
  reference_module.to(at::kDouble);
  if (auto outputs = run_forward(reference_module, cast_floating(cpu_inputs, at::kDouble))) {
    return Reference{std::move(*outputs), "cpu float64 reference"};
  }
  report.notes.push_back("the model does not run in float64; CPU float32 is the reference");
  if (!device.is_cuda()) return std::nullopt;
  if (auto outputs = run_forward(*module, cpu_inputs))
    return Reference{std::move(*outputs), "cpu float32"};
  return std::nullopt;
}

void check_half_precision(const std::string& model_bytes, const std::vector<at::Tensor>& cpu_inputs,
                          const c10::Device& device, at::ScalarType half,
                          const Reference& reference, HarnessReport& report) {
  const auto name = dtype_name(half) + " vs " + reference.label;
  auto module = load_torchscript(model_bytes, device);
  if (!module) return report.checks.push_back(failed(name, module.error().message));
  module->to(half);
  auto outputs = run_forward(*module, to_device(cast_floating(cpu_inputs, half), device));
  if (!outputs && half == at::kHalf && !device.is_cuda()) {
    // LibTorch's CPU kernels mostly lack float16 ("... not implemented for 'Half'").
    return report.checks.push_back(
        failed(name, "float16 is not supported on the CPU (" + outputs.error().message +
                         "); use --dtype bfloat16 on the CPU, or float16 on a GPU"));
  }
  if (!outputs) return report.checks.push_back(failed(name, outputs.error().message));
  report.checks.push_back(check_finite(dtype_name(half) + " finite", *outputs));
  report.checks.push_back(
      compare_outputs(name, *outputs, reference.outputs, default_tolerance(half)));
}

void inventory_saved_tensors(const std::string& bytes, const c10::Device& device,
                             HarnessReport& report) {
  auto saved = load_saved_tensors(bytes);
  if (!saved) return report.checks.push_back(failed("read tensors", saved.error().message));
  report.python_classes = saved->python_classes;
  report.dangerous_globals = saved->dangerous_globals;
  for (const auto& [name, tensor] : saved->tensors) {
    report.saved_tensors.push_back(summarize_tensor(name, tensor.to(device)));
  }
  CheckResult finite{"tensors finite", true,
                     std::to_string(saved->tensors.size()) + " tensors, no NaN or Inf",
                     std::nullopt, std::nullopt};
  for (const auto& tensor : report.saved_tensors) {
    if (tensor.nan_count + tensor.inf_count > 0) {
      finite =
          failed("tensors finite", tensor.name + " holds " + std::to_string(tensor.nan_count) +
                                       " NaN and " + std::to_string(tensor.inf_count) + " Inf");
      break;
    }
  }
  report.checks.push_back(finite);
  const bool pickled_object = !report.python_classes.empty() || !report.dangerous_globals.empty();
  report.model_kind = pickled_object ? ModelKind::pickled_object : ModelKind::state_dict;
  report.checks.push_back(failed(
      "runnable without Python",
      !pickled_object
          ? "a state dict (torch.save of tensors): it needs its model's Python class to run; "
            "save the model with torch.jit.save to run it here"
          : "a pickled Python object: it needs its Python classes to load; save it with "
            "torch.jit.save"));
}

Result<std::string> choose_model_member(const Artifact& artifact, const HarnessOptions& options,
                                        HarnessReport& report) {
  if (options.model_member) return *options.model_member;
  VisitOptions listing;
  listing.keep_content = nullptr;
  auto tree = artifact.visit(listing);
  if (!tree) return std::move(tree).error();
  auto member = default_model_member(*tree);
  if (!member) report.checks.push_back(failed("find model", member.error().message));
  return member.value_or(std::string());
}

Result<void> run_model_checks(const HarnessOptions& options, const std::string& model_bytes,
                              const c10::Device& device, Clock::time_point start,
                              torch::jit::Module& module, HarnessReport& report,
                              const CancelToken& cancel) {
  std::vector<at::Tensor> cpu_inputs;
  if (options.input_file) {
    auto loaded = tensors_from_file(*options.input_file, options.max_model_bytes);
    if (!loaded) return std::move(loaded).error();
    cpu_inputs = std::move(*loaded);
  } else {
    cpu_inputs = random_inputs(options.inputs, options.seed);
  }
  report.inputs = summarize_tensors("input", cpu_inputs);
  const auto inputs = to_device(cpu_inputs, device);

  StrictFloat32 strict;
  auto first = run_forward(module, inputs);
  if (!first) {
    report.checks.push_back(failed("forward", first.error().message));
    return {};
  }
  const auto outputs = to_device(*first, c10::Device(c10::kCPU));
  report.first_result_ms = milliseconds_since(start);
  report.outputs = summarize_tensors("output", outputs);
  report.checks.push_back(check_finite("outputs finite", outputs));

  if (options.expect_file) {
    auto expected = tensors_from_file(*options.expect_file, options.max_model_bytes);
    if (!expected) return std::move(expected).error();
    std::optional<Tolerance> tolerance;
    if (options.rtol || options.atol) {
      const auto defaults =
          default_tolerance(outputs.empty() ? at::kFloat : outputs[0].scalar_type());
      tolerance =
          Tolerance{options.rtol.value_or(defaults.rtol), options.atol.value_or(defaults.atol)};
    }
    report.checks.push_back(compare_outputs("expected outputs", outputs, *expected, tolerance));
  }

  auto second = run_forward(module, inputs);
  if (!second) {
    report.checks.push_back(failed("repeat run", second.error().message));
    return {};
  }
  report.checks.push_back(check_repeatable(outputs, to_device(*second, c10::Device(c10::kCPU))));

  const auto reference = cpu_reference(model_bytes, cpu_inputs, device, report);
  if (reference) {
    const auto computed_in = outputs.empty() ? at::kFloat : outputs[0].scalar_type();
    report.checks.push_back(compare_outputs(device.str() + " vs " + reference->label, outputs,
                                            reference->outputs,
                                            reference_tolerance(computed_in, device)));
    if (options.half_dtype) {
      check_half_precision(model_bytes, cpu_inputs, device, scalar_type(*options.half_dtype),
                           *reference, report);
    }
  }
  if (cancel.cancelled()) return Error::interrupted();
  return {};
}

Result<void> run_timing(const HarnessOptions& options, const c10::Device& device,
                        torch::jit::Module& module, HarnessReport& report,
                        const CancelToken& cancel) {
  const auto cpu_inputs =
      options.input_file
          ? tensors_from_file(*options.input_file, options.max_model_bytes)
          : Result<std::vector<at::Tensor>>(random_inputs(options.inputs, options.seed));
  if (!cpu_inputs) return cpu_inputs.error();
  const TimingPlan plan{options.warmup, options.iters};
  report.batch = batch_size(*cpu_inputs);
  if (options.iters > 0) {
    auto runs = time_forward(module, to_device(*cpu_inputs, device), device, plan, cancel);
    if (!runs) {
      if (runs.error().kind == ErrorKind::interrupted) return std::move(runs).error();
      report.checks.push_back(failed("timed runs", runs.error().message));
      return {};
    }
    report.latency = summarize_latencies(runs->milliseconds, report.batch);
    report.peak_memory_bytes = runs->peak_memory_bytes;
  }
  if (!options.batch_sweep.empty()) {
    std::optional<BatchPoint> base;
    if (report.latency)
      base = BatchPoint{report.batch, true, *report.latency, report.peak_memory_bytes};
    auto points =
        sweep_batches(module, *cpu_inputs, options.batch_sweep, base, device, plan, cancel);
    if (!points) {
      if (points.error().kind == ErrorKind::interrupted) return std::move(points).error();
      report.checks.push_back(failed("batch sweep", points.error().message));
      return {};
    }
    report.batch_sweep = std::move(*points);
  }
  return {};
}

}  // namespace

Result<HarnessReport> run_harness(const HarnessOptions& options, const CancelToken& cancel) {
  c10::InferenceMode inference;
  HarnessReport report;
  report.source = options.source;
  report.torch_version = TORCH_VERSION;
  auto device = choose_device(options.device);
  if (!device) return std::move(device).error();
  report.device = device->str();
  if (device->is_cuda()) report.device_name = cuda_device_name(device->index());

  const auto start = Clock::now();
  // An s3:// model is read in place, with the credentials the AWS CLI would use.
  std::optional<S3Client> s3;
  if (is_s3_url(options.source)) {
    S3Settings settings;
    settings.cancel = &cancel;
    auto client = S3Client::connect(AwsEnvironment::from_process(), settings);
    if (!client) return std::move(client).error();
    s3 = std::move(*client);
  }
  auto artifact = Artifact::open(options.source, {}, s3 ? &*s3 : nullptr);
  if (!artifact) return std::move(artifact).error();
  auto member = choose_model_member(*artifact, options, report);
  if (!member) return std::move(member).error();
  if (member->empty()) return report;
  report.model_member = *member;
  auto bytes = artifact->read_member(*member, options.max_model_bytes);
  if (!bytes) return std::move(bytes).error().with_context(options.source);
  report.model_bytes = bytes->size();
  if (cancel.cancelled()) return Error::interrupted();

  auto kind = classify_saved_file(*bytes);
  if (!kind) {
    report.checks.push_back(failed("load", *member + ": " + kind.error().message));
    return report;
  }
  if (*kind == SavedFileKind::torch_save) {
    inventory_saved_tensors(*bytes, *device, report);
    return report;
  }
  report.model_kind = ModelKind::torchscript;
  auto module = load_torchscript(*bytes, *device);
  if (!module) {
    report.checks.push_back(failed("load", *member + ": " + module.error().message));
    return report;
  }
  report.cold_load_ms = milliseconds_since(start);
  report.checks.push_back(
      {"load", true, "TorchScript on " + device->str(), std::nullopt, std::nullopt});

  if (options.inputs.empty() && !options.input_file) {
    report.notes.push_back("no --input or --input-file: the model was loaded, not run");
    return report;
  }
  if (auto checked = run_model_checks(options, *bytes, *device, start, *module, report, cancel);
      !checked) {
    return std::move(checked).error();
  }
  if (!report.passed()) return report;
  if (auto timed = run_timing(options, *device, *module, report, cancel); !timed)
    return std::move(timed).error();
  return report;
}

}  // namespace smpack::harness
