// libFuzzer target: the Python tokenizer and the handler scan on arbitrary bytes. Every
// sibling module resolves to the same bytes, so imports, cycles and depth caps are exercised.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "python/python_tokenizer.h"
#include "smpack/handler_scan.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string source(reinterpret_cast<const char*>(data), size);
  (void)smpack::tokenize_python(source);
  const smpack::SourceLookup lookup = [&source](std::string_view path) -> const std::string* {
    return path.size() > 3 && path.substr(path.size() - 3) == ".py" ? &source : nullptr;
  };
  (void)smpack::scan_handler_module("code/inference.py", source, lookup);
  return 0;
}
