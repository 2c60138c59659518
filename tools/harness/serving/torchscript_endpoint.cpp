#include "serving/torchscript_endpoint.h"

#include <algorithm>
#include <cstring>

#include "serving/payload_codecs.h"
#include "smpack/utf8.h"
#include "torch_model.h"
#include "torch_types.h"

namespace smpack::harness {
namespace {

constexpr std::string_view kJson = "application/json";
constexpr std::string_view kCsv = "text/csv";
constexpr std::string_view kNpy = "application/x-npy";
constexpr std::string_view kNpz = "application/x-npz";

InvocationResponse handler_error(std::string message) {
  return {500, std::move(message), "text/plain"};
}

InvocationResponse from_failure(const PayloadError& failure) {
  return {failure.status, failure.message, "text/plain"};
}

// errors.UnsupportedFormatError's text, indentation included (its textwrap.dedent
// finds no common margin, the first line having none).
std::string unsupported(const std::optional<std::string>& content_type) {
  return "Content type " + content_type.value_or("None") +
         " is not supported by this framework.\n\n            Please implement input_fn to to "
         "deserialize the request data or an output_fn to\n            serialize the response. "
         "For more information, see the SageMaker Python SDK README.";
}

at::Tensor to_tensor(const NdArray& array) {
  std::vector<std::int64_t> shape = array.shape;
  if (array.fortran_order) std::reverse(shape.begin(), shape.end());
  auto tensor = torch::empty(shape, torch::TensorOptions().dtype(scalar_type(array.type)));
  std::memcpy(tensor.data_ptr(), array.data.data(), array.data.size());
  if (!array.fortran_order) return tensor;
  std::vector<std::int64_t> reversed(shape.size());
  for (std::size_t i = 0; i < shape.size(); ++i)
    reversed[i] = static_cast<std::int64_t>(shape.size() - 1 - i);
  return tensor.permute(reversed).contiguous();
}

// tensor.tolist(): Python floats (float64), ints (int64) or bools.
PayloadResult<NdArray> tolist(const at::Tensor& prediction) {
  auto cpu = prediction.detach().to(c10::Device(c10::kCPU));
  NdArray array;
  if (cpu.is_complex()) {
    return PayloadError{500,
                        "the model returned a complex tensor, which the encoders write "
                        "only as Python complex numbers (json.dumps refuses them)"};
  }
  if (cpu.scalar_type() == at::kBool) {
    array.type = ElementType::boolean;
  } else if (cpu.is_floating_point()) {
    array.type = ElementType::float64;
    cpu = cpu.to(at::kDouble);
  } else {
    array.type = ElementType::int64;
    cpu = cpu.to(at::kLong);
  }
  cpu = cpu.contiguous();
  array.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
  if (cpu.numel() == 0) {
    // tolist() of an empty tensor is nested empty lists: the dimensions after the first 0
    // and the dtype are gone, and np.asarray reads them back as float64.
    const auto zero = std::find(array.shape.begin(), array.shape.end(), 0);
    array.shape.erase(zero + 1, array.shape.end());
    array.type = ElementType::float64;
    return array;
  }
  const auto bytes = static_cast<std::size_t>(cpu.numel()) * item_bytes(array.type);
  array.data.resize(bytes);
  if (bytes != 0) std::memcpy(array.data.data(), cpu.data_ptr(), bytes);
  return array;
}

// utils.parse_accept: spaces removed, split at ','; the first the encoders know wins.
std::optional<std::string> encodable_accept(const std::string& accept) {
  std::string compact;
  for (const char c : accept)
    if (c != ' ') compact += c;
  std::size_t start = 0;
  while (true) {
    const auto end = compact.find(',', start);
    const auto type = compact.substr(start, end == std::string::npos ? end : end - start);
    if (type == kJson || type == kCsv || type == kNpy) return type;
    if (end == std::string::npos) return std::nullopt;
    start = end + 1;
  }
}

}  // namespace

Result<std::unique_ptr<TorchScriptEndpoint>> TorchScriptEndpoint::load(const ServedModel& model,
                                                                       const c10::Device& device,
                                                                       std::string default_accept) {
  auto module = load_torchscript(model.bytes, device);
  if (!module) return std::move(module).error().with_context(model.source + ": " + model.member);
  return std::unique_ptr<TorchScriptEndpoint>(
      new TorchScriptEndpoint(std::move(*module), device, std::move(default_accept)));
}

InvocationResponse TorchScriptEndpoint::invoke(const Invocation& request) const {
  // Transformer.transform: an absent or */* Accept is the default accept.
  const std::string accept = !request.accept || request.accept->empty() || *request.accept == "*/*"
                                 ? default_accept_
                                 : *request.accept;
  const auto& type = request.content_type;
  // Transformer decodes JSON and CSV bodies as UTF-8 before any handler sees them.
  if (type == kJson || type == kCsv) {
    if (const auto at = first_invalid_utf8(request.body); at != std::string::npos) {
      return handler_error("'utf-8' codec can't decode the body at position " + std::to_string(at) +
                           ": not UTF-8");
    }
  }
  PayloadResult<NdArray> decoded = PayloadError{500, unsupported(type)};
  if (type == kJson) decoded = decode_json(request.body);
  if (type == kCsv) decoded = decode_csv(request.body);
  if (type == kNpy) decoded = decode_npy(request.body);
  if (type == kNpz) {
    decoded = PayloadError{500,
                           "application/x-npz decodes to a scipy sparse matrix "
                           "(scipy.sparse.load_npz), which the default input_fn's "
                           "torch.from_numpy cannot convert"};
  }
  if (const auto* failure = std::get_if<PayloadError>(&decoded)) return from_failure(*failure);

  at::Tensor output;
  try {
    c10::InferenceMode inference;
    const auto input = to_tensor(std::get<NdArray>(decoded)).to(device_);
    const auto result = module_.forward({input});
    if (!result.isTensor()) {
      return handler_error("the model returned a " + result.tagKind() +
                           ": smpack-harness encodes a single tensor");
    }
    output = result.toTensor();
  } catch (const std::exception& error) {
    return handler_error(torch_message(error));
  }
  const auto encodable = encodable_accept(accept);
  if (!encodable) return handler_error(unsupported(accept));
  auto prediction = tolist(output);
  if (const auto* failure = std::get_if<PayloadError>(&prediction)) return from_failure(*failure);
  const auto& values = std::get<NdArray>(prediction);
  if (*encodable == kJson) return {200, encode_json(values), accept};
  if (*encodable == kNpy) return {200, encode_npy(values), accept};
  auto csv = encode_csv(values);
  if (const auto* failure = std::get_if<PayloadError>(&csv)) return from_failure(*failure);
  return {200, std::get<std::string>(std::move(csv)), accept};
}

}  // namespace smpack::harness
