// `extract` of archives made of directories, files, symlinks and hard links with names
// and targets from the input, checked on disk: nothing may appear beside the
// destination, the file beside it must stay as it was, no extracted link may resolve
// outside the destination, and no extracted file may share an inode with a file outside
// it. The link resolver and the on-disk checks are judged by what the kernel does, not
// by what their own code says.
//
// Input: records of one type byte (d, f, s, h; others are taken modulo 4), a name and,
// for links, a target, each ended by a NUL; names and targets longer than 99 bytes are
// cut (ustar fields). Seeds: tests/fuzz/corpus/fuzz_link_extract/.
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <string_view>

#include "smpack/artifact.h"
#include "smpack/byte_source.h"
#include "smpack/extract.h"

namespace {

namespace fs = std::filesystem;

constexpr std::string_view kSentinelText = "outside the destination";

void put_octal(std::string& block, std::size_t offset, std::size_t width, std::uint64_t value) {
  std::snprintf(block.data() + offset, width, "%0*llo", static_cast<int>(width - 1),
                static_cast<unsigned long long>(value));
}

std::string ustar_header(std::string_view name, char type, std::string_view target,
                         std::size_t size) {
  std::string block(512, '\0');
  block.replace(0, std::min<std::size_t>(name.size(), 99), name.substr(0, 99));
  put_octal(block, 100, 8, type == '5' ? 0755 : 0644);
  put_octal(block, 108, 8, 0);
  put_octal(block, 116, 8, 0);
  put_octal(block, 124, 12, size);
  put_octal(block, 136, 12, 0);
  block[156] = type;
  block.replace(157, std::min<std::size_t>(target.size(), 99), target.substr(0, 99));
  block.replace(257, 8,
                std::string("ustar\0"
                            "00",
                            8));
  std::memset(block.data() + 148, ' ', 8);
  unsigned sum = 0;
  for (unsigned char c : block) sum += c;
  std::snprintf(block.data() + 148, 8, "%06o", sum);
  return block;
}

std::string next_field(std::string_view& input) {
  const std::size_t end = input.find('\0');
  std::string field(input.substr(0, end));
  input.remove_prefix(end == std::string_view::npos ? input.size() : end + 1);
  return field;
}

std::string tar_from(std::string_view input) {
  std::string tar;
  for (int members = 0; !input.empty() && members < 64; ++members) {
    const char type = "d0sh"[static_cast<unsigned char>(input.front()) % 4];
    input.remove_prefix(1);
    const std::string name = next_field(input);
    if (type == 'd') {
      tar += ustar_header(name, '5', "", 0);
    } else if (type == '0') {
      tar += ustar_header(name, '0', "", 1);
      tar += std::string(1, 'x') + std::string(511, '\0');
    } else {
      tar += ustar_header(name, type == 's' ? '2' : '1', next_field(input), 0);
    }
  }
  return tar + std::string(1024, '\0');
}

// The per-process scratch: base/root/{dest, outside/sentinel}.
const fs::path& base() {
  static const fs::path path = [] {
    std::string pattern = (fs::temp_directory_path() / "smpack-fuzz-link-XXXXXX").string();
    if (mkdtemp(pattern.data()) == nullptr) std::abort();
    return fs::path(pattern);
  }();
  return path;
}

bool inside(const fs::path& path, const fs::path& root) {
  auto [end, _] = std::mismatch(root.begin(), root.end(), path.begin(), path.end());
  return end == root.end();
}

void check_disk(const fs::path& root, const fs::path& dest, const fs::path& sentinel,
                const struct stat& sentinel_stat) {
  for (const auto& entry : fs::directory_iterator(root)) {
    if (entry.path() != dest && entry.path() != root / "outside") std::abort();
  }
  for (const auto& entry : fs::directory_iterator(root / "outside")) {
    if (entry.path() != sentinel) std::abort();
  }
  std::ifstream in(sentinel, std::ios::binary);
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text != kSentinelText) std::abort();
  const fs::path real_dest = fs::canonical(dest);
  std::error_code error;
  for (auto it = fs::recursive_directory_iterator(dest, error);
       it != fs::recursive_directory_iterator(); it.increment(error)) {
    if (error) break;
    const fs::path& path = it->path();
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0) continue;
    if (S_ISLNK(st.st_mode)) {
      if (fs::read_symlink(path, error).is_absolute()) std::abort();
      auto resolved = fs::canonical(path, error);
      if (!error && !inside(resolved, real_dest)) std::abort();
      error.clear();
    } else if (S_ISREG(st.st_mode) && st.st_dev == sentinel_stat.st_dev &&
               st.st_ino == sentinel_stat.st_ino) {
      std::abort();  // a hard link to the file outside
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string tar = tar_from({reinterpret_cast<const char*>(data), size});
  const fs::path root = base() / "root";
  const fs::path dest = root / "dest";
  const fs::path sentinel = root / "outside" / "sentinel";
  fs::remove_all(root);
  fs::create_directories(dest);
  fs::create_directories(sentinel.parent_path());
  std::ofstream(sentinel, std::ios::binary) << kSentinelText;
  struct stat sentinel_stat {};
  if (stat(sentinel.c_str(), &sentinel_stat) != 0) std::abort();

  auto archive =
      smpack::Artifact::open_archive(std::make_unique<smpack::MemoryByteSource>(tar), "fuzz.tar");
  if (!archive) return 0;
  smpack::ExtractOptions options;
  options.unsafe = smpack::UnsafeMemberPolicy::skip;  // go on past refused members
  options.overwrite = true;
  (void)smpack::extract_archive(*archive, dest, options);
  check_disk(root, dest, sentinel, sentinel_stat);
  return 0;
}
