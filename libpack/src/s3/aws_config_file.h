// The AWS CLI's shared files (~/.aws/credentials and ~/.aws/config): INI sections of
// "key = value". In the config file a profile's section is "[profile NAME]", except
// "[default]".
#pragma once

#include <filesystem>
#include <map>
#include <optional>
#include <string>

#include "smpack/result.h"

namespace smpack {

using AwsProfileSettings = std::map<std::string, std::string, std::less<>>;

struct AwsSharedFile {
  std::filesystem::path path;
  bool exists = false;
  std::map<std::string, AwsProfileSettings, std::less<>> sections;

  // The settings of `profile`, nullptr when the file has none. `config_style` reads
  // "[profile NAME]" sections.
  const AwsProfileSettings* profile(const std::string& name, bool config_style) const;
};

// A missing file is an empty one (exists false); an unreadable one is an io error.
Result<AwsSharedFile> read_aws_shared_file(const std::filesystem::path& path);

}  // namespace smpack
