// libFuzzer target: the requirements parser must accept any bytes without crashing, hanging
// or growing without bound, and every problem must point inside the input.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "python/requirements.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  smpack::RequirementsParseOptions options;
  options.env = {{"TOKEN", "x"}, {"VERSION", "1.0"}};
  auto file = smpack::parse_requirements(text, options);
  for (const auto& problem : file.problems) {
    if (problem.line < 0 || problem.column < 0) std::abort();
  }
  for (const auto& req : file.requirements) {
    if (req.line <= 0) std::abort();
    for (const auto& spec : req.specifiers) {
      if (auto version = smpack::parse_pep440_version(spec.version)) {
        (void)smpack::specifier_allows(spec, *version);
        if (smpack::compare_versions(*version, *version) != 0) std::abort();
      }
    }
  }
  return 0;
}
