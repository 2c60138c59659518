#include "smpack/s3.h"

extern char** environ;

namespace smpack {

std::optional<std::string> AwsEnvironment::get(std::string_view name) const {
  auto it = variables.find(name);
  if (it == variables.end() || it->second.empty()) return std::nullopt;
  return it->second;
}

AwsEnvironment AwsEnvironment::from_process() {
  AwsEnvironment environment;
  for (char** entry = environ; entry && *entry; ++entry) {
    const std::string_view text(*entry);
    const auto equals = text.find('=');
    if (equals == std::string_view::npos) continue;
    const auto name = text.substr(0, equals);
    if (name.starts_with("AWS_") || name == "HOME") {
      environment.variables.emplace(std::string(name), std::string(text.substr(equals + 1)));
    }
  }
  return environment;
}

}  // namespace smpack
