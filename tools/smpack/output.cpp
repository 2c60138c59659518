#include "output.h"

#include <atomic>
#include <cstdio>
#include <iostream>
#include <vector>

namespace smpack::cli {

void print_error(const Context& context, std::string_view message) {
  const char* on = context.color ? "\033[1;31m" : "";
  const char* off = context.color ? "\033[0m" : "";
  std::cerr << "smpack: " << on << "error:" << off << " " << escape_for_terminal(message) << "\n";
}

void print_warning(const Context& context, std::string_view message) {
  const char* on = context.color ? "\033[1;33m" : "";
  const char* off = context.color ? "\033[0m" : "";
  std::cerr << "smpack: " << on << "warning:" << off << " " << escape_for_terminal(message) << "\n";
}

void print_note(const Context& context, std::string_view message) {
  if (!context.quiet) std::cerr << message << "\n";
}

void print_json(const nlohmann::ordered_json& doc) {
  std::cout << doc.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace) << "\n";
}

namespace {
// How many foreground bars are on the screen now.
std::atomic<int> foreground_bars{0};
}  // namespace

TerminalProgress::TerminalProgress(const Context& context, std::string label, bool background)
    : enabled_(context.stderr_is_terminal && !context.quiet),
      background_(background),
      label_(std::move(label)) {}

TerminalProgress::~TerminalProgress() {
  finish();
}

void TerminalProgress::update(unsigned long long done, unsigned long long total) {
  if (!enabled_) return;
  std::lock_guard lock(mutex_);
  if (background_ && foreground_bars > 0) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && (total == 0 || done < total))
    return;
  last_ = now;
  std::string line = "\r" + label_;
  if (total) {
    constexpr int kWidth = 30;
    const double fraction = static_cast<double>(done) / static_cast<double>(total);
    std::string bar(static_cast<std::size_t>(fraction * kWidth), '#');
    bar.resize(kWidth, '.');
    char percent[8];
    std::snprintf(percent, sizeof percent, "%3d%%", static_cast<int>(fraction * 100));
    line += " [" + bar + "] " + percent;
  }
  line += " " + human_bytes(done);
  const double seconds = std::chrono::duration<double>(now - start_).count();
  if (seconds >= 0.5) {
    line += " at " + human_bytes(static_cast<std::uint64_t>(static_cast<double>(done) / seconds)) +
            "/s";
  }
  std::fprintf(stderr, "%s\033[K", line.c_str());
  std::fflush(stderr);
  if (!drawn_ && !background_) ++foreground_bars;
  drawn_ = true;
}

void TerminalProgress::finish() {
  std::lock_guard lock(mutex_);
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    if (!background_) --foreground_bars;
    drawn_ = false;
  }
}

}  // namespace smpack::cli
