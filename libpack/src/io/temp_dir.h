// A fresh private directory under the system's temporary directory ($TMPDIR, else
// /tmp), removed with everything in it when the object goes.
#pragma once

#include <filesystem>

#include "smpack/result.h"

namespace smpack {

class TempDir {
 public:
  static Result<TempDir> create(const char* prefix);
  TempDir(TempDir&& other) noexcept : path_(std::move(other.path_)) { other.path_.clear(); }
  TempDir& operator=(TempDir&&) = delete;
  ~TempDir();

  const std::filesystem::path& path() const { return path_; }

 private:
  explicit TempDir(std::filesystem::path path) : path_(std::move(path)) {}
  std::filesystem::path path_;
};

}  // namespace smpack
