// The hosting-container contract over HTTP (cpp-httplib): GET /ping answers 200 once the
// model is loaded (503 before), POST /invocations runs the handler chain. Requests run on
// a pool of `threads`; a body above the payload limit is a 413; SIGTERM or SIGINT stops
// accepting, lets requests in flight finish, and returns.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <ostream>
#include <string>

#include "smpack/cancel.h"
#include "smpack/invocation.h"
#include "smpack/result.h"

namespace smpack::harness {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port
  int threads = 4;
  std::uint64_t max_payload_bytes = 6u << 20;  // real-time endpoints' limit
  std::ostream* access_log = nullptr;          // one line per request, with its latency
};

// Binds, calls `on_listening(port)`, runs `load` (a 503 on /ping until it returns), then
// serves until a signal. Error::io when the port cannot be bound; `load`'s error stops
// the server and is returned. SIGTERM or SIGINT during the load cancels the token `load`
// gets; a second one ends the process (exit 130). Blocks both signals in the calling
// thread.
Result<void> serve_http(
    const ServerOptions& options, const std::function<void(int port)>& on_listening,
    const std::function<Result<std::unique_ptr<InvocationHandler>>(const CancelToken&)>& load);

}  // namespace smpack::harness
