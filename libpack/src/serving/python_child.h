// A Python process that smpack talks to over two pipes of its own (requests on the child's
// fd 4, events from its fd 3), in a process group of its own, so that it can be stopped
// with everything it started in that group when a deadline passes. Its stdout and stderr
// are smpack's stderr: the handlers' prints show, and never mix with the events. Other
// descriptors of smpack are not inherited.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "smpack/cancel.h"
#include "smpack/result.h"

namespace smpack {

class PythonChild {
 public:
  using Clock = std::chrono::steady_clock;

  // Runs `python script args...` in `cwd` with exactly `environment`. `python` is a path.
  static Result<PythonChild> spawn(const std::string& python, const std::vector<std::string>& args,
                                   const std::map<std::string, std::string>& environment,
                                   const std::filesystem::path& cwd);
  PythonChild(PythonChild&& other) noexcept;
  PythonChild& operator=(PythonChild&&) = delete;
  ~PythonChild();  // kills the group if it still runs, and reaps the child

  // The next event line, without its '\n'. nullopt at the deadline (the child keeps
  // running: call stop()). Error::io when the child exited (its status in the message),
  // closed its end or wrote a line over the limit; Error::interrupted when `cancel` is set.
  Result<std::optional<std::string>> read_line(Clock::time_point deadline,
                                               const CancelToken* cancel);
  // The line and '\n', written by `deadline` (false when it passed); the same errors.
  Result<bool> write_line(const std::string& line, Clock::time_point deadline,
                          const CancelToken* cancel);

  // SIGKILL to the whole group; returns how the child ended ("exit 1", "signal 9").
  std::string stop();

 private:
  PythonChild(pid_t pid, int events, int requests)
      : pid_(pid), events_(events), requests_(requests) {}
  // Error::io with the child's exit status once it has exited; nothing while it runs.
  Result<void> check_running();

  pid_t pid_ = -1;
  std::optional<std::string> ended_;  // how the child ended, once reaped
  int events_ = -1;
  int requests_ = -1;
  std::string buffer_;
  std::size_t scanned_ = 0;  // bytes of buffer_ known to hold no '\n'
};

}  // namespace smpack
