#include "s3/aws_config_file.h"

#include <fstream>

namespace smpack {
namespace {

std::string_view trim(std::string_view text) {
  const auto first = text.find_first_not_of(" \t\r");
  if (first == std::string_view::npos) return {};
  const auto last = text.find_last_not_of(" \t\r");
  return text.substr(first, last - first + 1);
}

}  // namespace

const AwsProfileSettings* AwsSharedFile::profile(const std::string& name, bool config_style) const {
  const std::string section = config_style && name != "default" ? "profile " + name : name;
  auto it = sections.find(section);
  return it == sections.end() ? nullptr : &it->second;
}

Result<AwsSharedFile> read_aws_shared_file(const std::filesystem::path& path) {
  AwsSharedFile file;
  file.path = path;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) return file;
  std::ifstream in(path);
  if (!in) return Error::io(path.string() + ": cannot be read");
  file.exists = true;
  AwsProfileSettings* section = nullptr;
  std::string line;
  while (std::getline(in, line)) {
    // An indented line continues a nested block ("s3 =\n  addressing_style = path"),
    // which nothing here reads.
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) continue;
    const std::string_view text = trim(line);
    if (text.empty() || text[0] == '#' || text[0] == ';') continue;
    if (text.front() == '[' && text.back() == ']') {
      section = &file.sections[std::string(trim(text.substr(1, text.size() - 2)))];
      continue;
    }
    const auto equals = text.find('=');
    if (!section || equals == std::string_view::npos) continue;
    (*section)[std::string(trim(text.substr(0, equals)))] =
        std::string(trim(text.substr(equals + 1)));
  }
  return file;
}

}  // namespace smpack
