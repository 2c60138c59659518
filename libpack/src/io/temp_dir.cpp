#include "io/temp_dir.h"

#include <stdlib.h>

#include <string>

namespace smpack {

Result<TempDir> TempDir::create(const char* prefix) {
  std::error_code ec;
  const auto base = std::filesystem::temp_directory_path(ec);
  if (ec) return Error::io("no temporary directory: " + ec.message());
  std::string pattern = (base / (std::string(prefix) + "XXXXXX")).string();
  if (!::mkdtemp(pattern.data()))
    return Error::io(pattern + ": cannot create a temporary directory");
  return TempDir(pattern);
}

TempDir::~TempDir() {
  if (path_.empty()) return;
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace smpack
