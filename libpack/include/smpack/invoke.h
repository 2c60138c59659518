// smpack invoke: an archive's own handlers, run before any deploy by the real SageMaker
// inference toolkit (sagemaker-inference's Transformer, and sagemaker-pytorch-inference's
// default handlers for a PyTorch model) in a Python the user names, which has the model's
// own dependencies. The archive is extracted into a temporary folder (nothing is written
// outside it) and removed afterwards; code/requirements.txt is compared with what that
// Python has installed, never installed.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "smpack/artifact.h"
#include "smpack/cancel.h"
#include "smpack/invocation.h"
#include "smpack/result.h"

namespace smpack {

struct InvokeOptions {
  std::string python;  // the interpreter's path (the CLI finds python3 on PATH)
  // What the Python inherits from the caller (PATH, HOME, LANG, ...): the library reads no
  // environment of its own. AWS credentials are the caller's to leave out.
  std::map<std::string, std::string> inherited_environment;
  // The endpoint's environment (SAGEMAKER_PROGRAM, SAGEMAKER_DEFAULT_INVOCATIONS_ACCEPT, ...);
  // SAGEMAKER_PROGRAM defaults to the handler module lint finds.
  std::map<std::string, std::string> endpoint_environment;
  std::chrono::milliseconds load_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds request_timeout{std::chrono::seconds(60)};  // the toolkit's default
  const CancelToken* cancel = nullptr;
};

// A requirement of code/requirements.txt that the Python does not satisfy.
struct RequirementGap {
  int line = 0;
  std::string requirement;  // as written
  std::string installed;    // the installed version; "" when not installed
};

struct HandlerSessionFacts {
  std::string python;          // as the interpreter names itself (sys.executable)
  std::string python_version;  // "3.11.2"
  std::string toolkit_version;
  std::string default_handler;  // the toolkit's handler class for what the module leaves out
  std::string framework;        // the profile lint detects: "pytorch", "generic", ...
  std::string handler_module;   // "code/inference.py"; "" when the defaults run
  double load_ms = 0;           // model_fn (or the default loader)
  std::optional<std::string> load_failure;  // the traceback, or what stopped the load
  bool has_requirements = false;            // code/requirements.txt exists
  std::vector<RequirementGap> missing;      // not installed
  std::vector<RequirementGap> other_versions;
};

class HandlerSession final : public InvocationHandler {
 public:
  // Extracts the artifact, starts the Python and loads the model. Error::bad_input when
  // the Python cannot run or lacks the toolkit (the message names the pip packages); a
  // model_fn that raises or passes the load timeout is facts().load_failure.
  static Result<std::unique_ptr<HandlerSession>> start(const Artifact& artifact,
                                                       const InvokeOptions& options);
  ~HandlerSession() override;

  const HandlerSessionFacts& facts() const;

  // One request through Transformer.transform: a handler's exception is the toolkit's 500
  // (message and traceback); no answer within the request timeout is a 504, and the
  // Python is stopped (later requests are 503s). Requests are answered one at a time.
  InvocationResponse invoke(const Invocation& request) const override;

 private:
  struct State;
  explicit HandlerSession(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace smpack
