#include "smpack/sdk_version.h"

#include <string>

namespace smpack {

Result<SdkVersion> parse_sdk_version(std::string_view text) {
  if (text == "v2") return SdkVersion::v2;
  if (text == "v3") return SdkVersion::v3;
  return Error::usage("SDK version '" + std::string(text) + "' is not v2 or v3");
}

std::string_view name_of(SdkVersion sdk) {
  return sdk == SdkVersion::v2 ? "v2" : "v3";
}

}  // namespace smpack
