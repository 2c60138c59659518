#include "code_options.h"

#include <ctime>

namespace smpack::cli {

Result<std::int64_t> parse_mtime(const std::string& text) {
  char* end = nullptr;
  long long seconds = std::strtoll(text.c_str(), &end, 10);
  if (!text.empty() && *end == '\0' && seconds >= 0) return static_cast<std::int64_t>(seconds);
  std::tm tm{};
  const char* rest = strptime(text.c_str(), "%Y-%m-%d", &tm);
  if (rest && *rest == 'T') rest = strptime(rest + 1, "%H:%M:%S", &tm);
  if (rest && *rest == 'Z') ++rest;
  if (!rest || *rest != '\0') {
    return Error::usage(
        "--mtime: '" + text +
        "' is neither seconds since the epoch nor a UTC date like 2024-05-01T00:00:00Z");
  }
  return static_cast<std::int64_t>(timegm(&tm));
}

}  // namespace smpack::cli
