// One call of an endpoint's POST /invocations, as the hosting container receives it, and
// what answers it: smpack-harness's TorchScript endpoint or pipeline, or the user's own
// handlers in their Python (invoke.h). HTTP (smpack-harness serve) and Batch Transform
// (batch_transform.h) both go through it, so they answer alike.
#pragma once

#include <optional>
#include <string>

namespace smpack {

struct Invocation {
  std::string body;
  std::optional<std::string> content_type;  // absent: the toolkit sees None
  std::optional<std::string> accept;        // absent or "*/*": the default accept
};

struct InvocationResponse {
  int status = 200;
  std::string body;
  std::string content_type;  // of a 200: the Accept the encoder matched, as sent
};

class InvocationHandler {
 public:
  virtual ~InvocationHandler() = default;
  // Safe to call from several threads at once.
  virtual InvocationResponse invoke(const Invocation& request) const = 0;
};

}  // namespace smpack
