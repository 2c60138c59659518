// The request decoders and response encoders of the SageMaker PyTorch container's default
// handler (sagemaker-inference 1.10 decoder.py/encoder.py, sagemaker-pytorch-inference
// 2.0.25 default_input_fn/default_output_fn), reproduced to the byte. docs/serving.md
// lists each place where smpack differs, and why.
#pragma once

#include <string>
#include <string_view>
#include <variant>

#include "serving/nd_array.h"

namespace smpack::harness {

// Why a body was not decoded or a prediction not encoded, with the HTTP status the
// endpoint answers: 500 where the toolkit's handler raises too (Transformer turns every
// handler exception into a 500 whose body is the message), 400 where smpack refuses what
// the toolkit would run (an NPY object array, which np.load(allow_pickle=True) unpickles).
struct PayloadError {
  int status = 500;
  std::string message;
};

template <typename T>
using PayloadResult = std::variant<T, PayloadError>;

// application/json: np.array(json.loads(body)), then torch.FloatTensor: float32. Python's
// json extensions NaN, Infinity and -Infinity are numbers too.
PayloadResult<NdArray> decode_json(std::string_view body);

// text/csv: np.genfromtxt(body, dtype=None, delimiter=","), then torch.FloatTensor. Each
// column's type is inferred as numpy does (bool, int, float); columns of different types
// make a structured array, which FloatTensor refuses; the result is squeezed.
PayloadResult<NdArray> decode_csv(std::string_view body);

// application/x-npy: np.load, then torch.from_numpy, which keeps the dtype.
PayloadResult<NdArray> decode_npy(std::string_view body);

// The encoders take the prediction after tensor.tolist(): float64, int64 or bool.
std::string encode_json(const NdArray& prediction);                // json.dumps
PayloadResult<std::string> encode_csv(const NdArray& prediction);  // np.savetxt, fmt="%s"
std::string encode_npy(const NdArray& prediction);                 // np.save

}  // namespace smpack::harness
