#include "serving/python_child.h"

#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

namespace smpack {
namespace {

constexpr int kChildEventFd = 3;
constexpr int kChildRequestFd = 4;
constexpr std::size_t kMaxEventBytes = 1ull << 30;  // a response event, base64 included
constexpr int kTickMs = 100;                        // how often Ctrl-C and exit are seen

// Milliseconds to wait in poll(): what is left before `deadline`, at most one tick.
int tick_until(PythonChild::Clock::time_point deadline) {
  const auto left =
      std::chrono::duration_cast<std::chrono::milliseconds>(deadline - PythonChild::Clock::now())
          .count();
  return static_cast<int>(std::clamp<long long>(left, 0, kTickMs));
}

std::string describe_status(int status) {
  if (WIFEXITED(status)) return "exit " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return "signal " + std::to_string(WTERMSIG(status));
  return "status " + std::to_string(status);
}

}  // namespace

Result<PythonChild> PythonChild::spawn(const std::string& python,
                                       const std::vector<std::string>& args,
                                       const std::map<std::string, std::string>& environment,
                                       const std::filesystem::path& cwd) {
  int events[2];
  int requests[2];
  if (pipe2(events, O_CLOEXEC) != 0) return Error::io(std::string("pipe: ") + std::strerror(errno));
  if (pipe2(requests, O_CLOEXEC) != 0) {
    close(events[0]);
    close(events[1]);
    return Error::io(std::string("pipe: ") + std::strerror(errno));
  }
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  // dup2 clears close-on-exec on the copies; the originals close at exec.
  posix_spawn_file_actions_adddup2(&actions, events[1], kChildEventFd);
  posix_spawn_file_actions_adddup2(&actions, requests[0], kChildRequestFd);
  posix_spawn_file_actions_adddup2(&actions, STDERR_FILENO, STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addchdir_np(&actions, cwd.c_str());
  posix_spawn_file_actions_addclosefrom_np(&actions, kChildRequestFd + 1);
  posix_spawnattr_t attributes;
  posix_spawnattr_init(&attributes);
  posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETPGROUP);
  posix_spawnattr_setpgroup(&attributes, 0);

  std::vector<std::string> argv_text{python};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& arg : argv_text) argv.push_back(arg.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_text;
  for (const auto& [key, value] : environment) env_text.push_back(key + "=" + value);
  std::vector<char*> envp;
  for (auto& entry : env_text) envp.push_back(entry.data());
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int failed =
      posix_spawn(&pid, python.c_str(), &actions, &attributes, argv.data(), envp.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attributes);
  close(events[1]);
  close(requests[0]);
  if (failed != 0) {
    close(events[0]);
    close(requests[1]);
    return Error::bad_input(python + ": cannot run it (" + std::strerror(failed) + ")");
  }
  // Writes wait in poll(), under the caller's deadline, never in write().
  fcntl(requests[1], F_SETFL, fcntl(requests[1], F_GETFL) | O_NONBLOCK);
  return PythonChild(pid, events[0], requests[1]);
}

PythonChild::PythonChild(PythonChild&& other) noexcept
    : pid_(other.pid_),
      ended_(std::move(other.ended_)),
      events_(other.events_),
      requests_(other.requests_),
      buffer_(std::move(other.buffer_)),
      scanned_(other.scanned_) {
  other.pid_ = -1;
  other.events_ = -1;
  other.requests_ = -1;
}

PythonChild::~PythonChild() {
  if (pid_ > 0) stop();
  if (events_ >= 0) close(events_);
  if (requests_ >= 0) close(requests_);
}

Result<void> PythonChild::check_running() {
  if (!ended_ && pid_ > 0) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      ended_ = describe_status(status);
      // What it started in its group goes with it.
      kill(-pid_, SIGKILL);
      pid_ = -1;
    }
  }
  if (ended_) return Error::io("the Python process ended (" + *ended_ + ")");
  return {};
}

Result<std::optional<std::string>> PythonChild::read_line(Clock::time_point deadline,
                                                          const CancelToken* cancel) {
  while (true) {
    if (const auto newline = buffer_.find('\n', scanned_); newline != std::string::npos) {
      std::string line = buffer_.substr(0, newline);
      buffer_.erase(0, newline + 1);
      scanned_ = 0;
      return std::optional<std::string>(std::move(line));
    }
    scanned_ = buffer_.size();
    if (buffer_.size() > kMaxEventBytes)
      return Error::io("the Python process wrote an event line over 1 GiB");
    if (cancel != nullptr && cancel->cancelled()) return Error::interrupted();
    if (Clock::now() >= deadline) return std::optional<std::string>();
    pollfd watched{events_, POLLIN, 0};
    const int ready = poll(&watched, 1, tick_until(deadline));
    if (ready < 0 && errno != EINTR) return Error::io(std::string("poll: ") + std::strerror(errno));
    if (ready <= 0) {
      // A process it forked may hold the pipe open after it exited: look at the child too.
      if (auto running = check_running(); !running) return std::move(running).error();
      continue;
    }
    char chunk[65536];
    const ssize_t got = read(events_, chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) {
      if (auto running = check_running(); !running) return std::move(running).error();
      return Error::io("the Python process closed its events");
    }
    buffer_.append(chunk, static_cast<std::size_t>(got));
  }
}

Result<bool> PythonChild::write_line(const std::string& line, Clock::time_point deadline,
                                     const CancelToken* cancel) {
  // A child that exited makes the write raise SIGPIPE, which would end smpack: block it in
  // this thread for the write and take back the one it raised, leaving the process's
  // handling as it was.
  sigset_t pipe_signal;
  sigset_t previous;
  sigemptyset(&pipe_signal);
  sigaddset(&pipe_signal, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_signal, &previous);
  const std::string text = line + "\n";
  std::size_t written = 0;
  Result<bool> outcome = true;
  while (written < text.size()) {
    if (cancel != nullptr && cancel->cancelled()) {
      outcome = Error::interrupted();
      break;
    }
    if (Clock::now() >= deadline) {
      outcome = false;
      break;
    }
    const ssize_t n = write(requests_, text.data() + written, text.size() - written);
    if (n > 0) {
      written += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
      pollfd watched{requests_, POLLOUT, 0};
      poll(&watched, 1, tick_until(deadline));
      if (auto running = check_running(); !running) {
        outcome = std::move(running).error();
        break;
      }
      continue;
    }
    const timespec no_wait{0, 0};
    sigtimedwait(&pipe_signal, nullptr, &no_wait);
    if (auto running = check_running(); !running) {
      outcome = std::move(running).error();
    } else {
      outcome = Error::io("the Python process no longer reads requests");
    }
    break;
  }
  pthread_sigmask(SIG_SETMASK, &previous, nullptr);
  return outcome;
}

std::string PythonChild::stop() {
  if (ended_) return *ended_;
  if (pid_ <= 0) return "not running";
  kill(-pid_, SIGKILL);
  int status = 0;
  while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
  pid_ = -1;
  ended_ = describe_status(status);
  return *ended_;
}

}  // namespace smpack
