// Helpers shared by the unit tests: scratch directories and small files.
#pragma once

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>

namespace smpack::testing {

// A fresh directory removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    const char* base = std::getenv("SMPACK_TEST_TMP");
    auto root = base ? std::filesystem::path(base) : std::filesystem::temp_directory_path();
    std::filesystem::create_directories(root);
    std::string pattern = (root / "smpack-test-XXXXXX").string();
    path_ = ::mkdtemp(pattern.data());
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

inline void write_file(const std::filesystem::path& path, const std::string& content) {
  std::filesystem::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << content;
}

inline std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// Float32 values from a normal distribution, as raw little-endian bytes: data
// that compresses like real weights (a little), unlike zeros or random bytes.
inline std::string normal_floats(std::size_t count, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  std::string out(count * sizeof(float), '\0');
  for (std::size_t i = 0; i < count; ++i) {
    float v = normal(rng);
    std::memcpy(out.data() + i * sizeof(float), &v, sizeof v);
  }
  return out;
}

// bfloat16-like weights: the top 16 bits of float32 normals, as raw little-endian bytes.
inline std::string bfloat16_weights(std::size_t count, unsigned seed) {
  std::string floats = normal_floats(count, seed);
  std::string out(count * 2, '\0');
  for (std::size_t i = 0; i < count; ++i) std::memcpy(&out[2 * i], &floats[4 * i + 2], 2);
  return out;
}

inline std::span<const std::byte> as_bytes_of(const std::string& text) {
  return {reinterpret_cast<const std::byte*>(text.data()), text.size()};
}

}  // namespace smpack::testing
