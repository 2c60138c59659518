#include "output.h"

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

std::string human_bytes(std::uint64_t bytes) {
  static constexpr const char* kUnits[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double value = static_cast<double>(bytes);
  int unit = 0;
  while (value >= 1024 && unit < 4) {
    value /= 1024;
    ++unit;
  }
  char buf[32];
  if (unit == 0) {
    std::snprintf(buf, sizeof buf, "%llu B", static_cast<unsigned long long>(bytes));
  } else {
    std::snprintf(buf, sizeof buf, "%.1f %s", value, kUnits[unit]);
  }
  return buf;
}

TerminalProgress::TerminalProgress(const Context& context, std::string label)
    : enabled_(context.stderr_is_terminal && !context.quiet), label_(std::move(label)) {}

TerminalProgress::~TerminalProgress() {
  finish();
}

void TerminalProgress::update(unsigned long long done, unsigned long long total) {
  if (!enabled_) return;
  auto now = std::chrono::steady_clock::now();
  if (drawn_ && now - last_ < std::chrono::milliseconds(100) && done < total) return;
  last_ = now;
  constexpr int kWidth = 30;
  double fraction = total ? static_cast<double>(done) / static_cast<double>(total) : 1.0;
  int filled = static_cast<int>(fraction * kWidth);
  std::string bar(static_cast<std::size_t>(filled), '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "\r%s [%s] %3d%% %s", label_.c_str(), bar.c_str(),
               static_cast<int>(fraction * 100), human_bytes(done).c_str());
  std::fflush(stderr);
  drawn_ = true;
}

void TerminalProgress::finish() {
  if (drawn_) {
    std::fprintf(stderr, "\r\033[K");
    std::fflush(stderr);
    drawn_ = false;
  }
}

}  // namespace smpack::cli
