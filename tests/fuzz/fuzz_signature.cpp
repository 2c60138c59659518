// A signature bundle on arbitrary bytes, as `verify --signature` reads one from anyone:
// the bundle's JSON, its base64 fields, and the in-toto statement inside. The input is
// tried both as a bundle and as the statement a bundle would carry.
#include <cstddef>
#include <cstdint>
#include <string>

#include "signing/model_signing_format.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  if (auto bundle = smpack::parse_bundle(text, "fuzz.sig"))
    (void)smpack::parse_statement(bundle->payload, "fuzz.sig");
  (void)smpack::parse_statement(text, "fuzz.sig");
  return 0;
}
