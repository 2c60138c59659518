// cpp-httplib (Debian's libcpp-httplib, a compiled library) rather than Boost.Beast: the
// contract is two routes on a thread pool, which httplib gives in a few lines, with its
// own request parsing, payload limit (413) and keep-alive handling; Beast would have us
// write the connection loop and the pool ourselves.
#include "serving/http_server.h"

#include <httplib.h>
#include <pthread.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <mutex>
#include <thread>

namespace smpack::harness {
namespace {

using Clock = std::chrono::steady_clock;

thread_local Clock::time_point request_start;

std::optional<std::string> header(const httplib::Request& request, const char* name) {
  if (!request.has_header(name)) return std::nullopt;
  return request.get_header_value(name);
}

}  // namespace

Result<void> serve_http(
    const ServerOptions& options, const std::function<void(int port)>& on_listening,
    const std::function<Result<std::unique_ptr<InvocationHandler>>(const CancelToken&)>& load) {
  // Signals go to the waiting thread below only, so that httplib's threads never see them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  httplib::Server server;
  std::shared_ptr<const InvocationHandler> handler;
  std::mutex handler_mutex;
  std::atomic<bool> loaded = false;
  auto current = [&] {
    std::lock_guard lock(handler_mutex);
    return handler;
  };

  const int threads = options.threads;
  server.new_task_queue = [threads] {
    return new httplib::ThreadPool(static_cast<size_t>(threads));
  };
  server.set_payload_max_length(options.max_payload_bytes);
  // httplib writes the headers and the body apart: with Nagle's algorithm the body waits
  // for the client's delayed ACK of the headers, 40 ms a response on Linux.
  server.set_tcp_nodelay(true);
  // A connection holds a request thread while it is kept alive. httplib closes one after 5
  // requests by default, and each reconnect meets its listen backlog of 5 (fixed in 0.11),
  // where an overflow costs the client a 1 s SYN retransmit (bench/RESULTS.md). 100
  // requests a connection keep reconnects rare while a client beyond --threads still gets
  // a thread soon; an idle connection lets its thread go after 1 s.
  server.set_keep_alive_max_count(100);
  server.set_keep_alive_timeout(1);
  server.set_pre_routing_handler([](const httplib::Request&, httplib::Response&) {
    request_start = Clock::now();
    return httplib::Server::HandlerResponse::Unhandled;
  });
  std::mutex log_mutex;
  if (options.access_log != nullptr) {
    server.set_logger([&](const httplib::Request& request, const httplib::Response& response) {
      const double ms =
          std::chrono::duration<double, std::milli>(Clock::now() - request_start).count();
      char latency[32];
      std::snprintf(latency, sizeof(latency), "%.3f", ms);
      std::lock_guard lock(log_mutex);
      *options.access_log << request.remote_addr << " \"" << request.method << " " << request.path
                          << "\" " << response.status << " " << response.body.size() << " "
                          << latency << "ms\n";
      options.access_log->flush();
    });
  }
  server.Get("/ping", [&](const httplib::Request&, httplib::Response& response) {
    response.status = loaded ? 200 : 503;
  });
  server.Post("/invocations", [&](const httplib::Request& request, httplib::Response& response) {
    const auto serving = current();
    if (!serving) {
      response.status = 503;
      response.set_content("the model is still loading", "text/plain");
      return;
    }
    auto answer =
        serving->invoke({request.body, header(request, "Content-Type"), header(request, "Accept")});
    response.status = answer.status;
    response.set_content(std::move(answer.body), answer.content_type.c_str());
  });

  const int port = options.port == 0
                       ? server.bind_to_any_port(options.host)
                       : (server.bind_to_port(options.host, options.port) ? options.port : -1);
  if (port < 0) {
    return Error::io("cannot listen on " + options.host + ":" + std::to_string(options.port));
  }
  std::atomic<bool> listener_done = false;
  std::thread listener([&] {
    server.listen_after_bind();
    listener_done = true;
  });
  // stop() does nothing before the listener runs, so wait for it first.
  auto stop_server = [&] {
    while (!server.is_running() && !listener_done)
      std::this_thread::sleep_for(std::chrono::milliseconds(1));
    server.stop();
  };
  // The first signal stops the server and cancels a load in progress; a second one, while
  // a load does not notice, ends the process at once. The thread leaves when `done` is set.
  CancelToken stop_requested;
  std::atomic<bool> done = false;
  std::thread stopper([&] {
    int signals = 0;
    while (true) {
      int signal = 0;
      sigwait(&stop_signals, &signal);
      if (done) return;
      if (++signals > 1) std::_Exit(130);
      stop_requested.cancel();
      stop_server();
    }
  });
  on_listening(port);

  Result<void> outcome;
  if (auto model = load(stop_requested)) {
    std::lock_guard lock(handler_mutex);
    handler = std::move(*model);
    loaded = true;
  } else {
    outcome = std::move(model).error();
    stop_server();
  }
  listener.join();
  done = true;
  pthread_kill(stopper.native_handle(), SIGTERM);  // wake the signal thread to leave
  stopper.join();
  return outcome;
}

}  // namespace smpack::harness
