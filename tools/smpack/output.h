// How the CLI speaks: errors on stderr, names from archives escaped before they
// reach a terminal, sizes for people, a progress bar only on a terminal.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

#include "command.h"
#include "smpack/cancel.h"
#include "smpack/escape.h"
#include "smpack/human_bytes.h"

namespace smpack::cli {

// Errors and warnings are escaped here (their messages name archive members).
void print_error(const Context& context, std::string_view message);
void print_warning(const Context& context, std::string_view message);
// A note for people (suppressed by --quiet), on stderr.
void print_note(const Context& context, std::string_view message);
void print_json(const nlohmann::ordered_json& doc);

// A progress bar on stderr, drawn only when stderr is a terminal and not --quiet,
// at most ten times a second; erased by finish() or the destructor.
// A bar on stderr when it is a terminal: done of total (or done alone when the total
// is unknown) and the rate. A background bar (bytes from S3) stays quiet while a
// command's own bar is drawn. Thread-safe.
class TerminalProgress : public ProgressSink {
 public:
  TerminalProgress(const Context& context, std::string label, bool background = false);
  ~TerminalProgress() override;
  void update(unsigned long long done, unsigned long long total) override;
  void finish();
  ProgressSink* sink() { return enabled_ ? this : nullptr; }

 private:
  bool enabled_;
  bool background_;
  bool drawn_ = false;
  std::string label_;
  std::mutex mutex_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::chrono::steady_clock::time_point last_{};
};

}  // namespace smpack::cli
