// The SageMaker Python SDK major version a deploy call is written for (`--sdk`).
#pragma once

#include <string_view>

#include "smpack/result.h"

namespace smpack {

// v3 is what `pip install sagemaker` installs; v2 has the framework model classes.
enum class SdkVersion { v2, v3 };

Result<SdkVersion> parse_sdk_version(std::string_view text);  // "v2", "v3"; usage otherwise
std::string_view name_of(SdkVersion sdk);

}  // namespace smpack
