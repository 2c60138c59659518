// Base64 (RFC 4648, with padding), as S3's checksum headers and Sigstore bundles carry
// binary values.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace smpack {

std::string base64_encode(std::string_view raw);
// nullopt unless `text` is well-formed base64 (whitespace is not allowed).
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace smpack
