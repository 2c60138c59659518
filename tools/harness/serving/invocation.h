// One call of an endpoint's POST /invocations, as the hosting container receives it, and
// the handler chain that answers it: one model (torchscript_endpoint.h) or a pipeline of
// several (pipeline.h). HTTP (http_server.h) and Batch Transform (batch_transform.h) both
// go through it, so they answer alike.
#pragma once

#include <optional>
#include <string>

namespace smpack::harness {

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

}  // namespace smpack::harness
