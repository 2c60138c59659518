#include "archive/tar_header.h"

#include <cstring>

namespace smpack {
namespace {

constexpr std::uint64_t kMaxOctal11 = 077777777777ull;

void put_octal(char* field, std::size_t width, std::uint64_t value) {
  // width-1 digits, zero padded, then NUL.
  for (std::size_t i = width - 1; i-- > 0;) {
    field[i] = static_cast<char>('0' + (value & 7));
    value >>= 3;
  }
  field[width - 1] = '\0';
}

void put_string(char* field, std::size_t width, std::string_view value) {
  if (value.empty()) return;  // an empty view's data() may be null, which memcpy must not get
  std::memcpy(field, value.data(), std::min(width, value.size()));
}

// Splits a path into ustar's prefix (155) and name (100) at a '/', if possible.
bool split_ustar(std::string_view path, std::string_view& prefix, std::string_view& name) {
  if (path.size() <= 100) {
    prefix = {};
    name = path;
    return true;
  }
  for (std::size_t slash = path.find('/'); slash != std::string_view::npos;
       slash = path.find('/', slash + 1)) {
    if (slash <= 155 && path.size() - slash - 1 <= 100 && path.size() - slash - 1 > 0) {
      prefix = path.substr(0, slash);
      name = path.substr(slash + 1);
      return true;
    }
  }
  return false;
}

void fill_block(char* block, std::string_view prefix, std::string_view name, char typeflag,
                std::uint32_t mode, std::uint64_t size, std::int64_t mtime) {
  put_string(block + 0, 100, name);
  put_octal(block + 100, 8, mode & 07777u);
  put_octal(block + 108, 8, 0);
  put_octal(block + 116, 8, 0);
  put_octal(block + 124, 12, size);
  put_octal(block + 136, 12, static_cast<std::uint64_t>(mtime < 0 ? 0 : mtime));
  block[156] = typeflag;
  std::memcpy(block + 257,
              "ustar\0"
              "00",
              8);
  put_string(block + 345, 155, prefix);
  std::memset(block + 148, ' ', 8);
  unsigned sum = 0;
  for (std::size_t i = 0; i < kTarBlock; ++i) sum += static_cast<unsigned char>(block[i]);
  put_octal(block + 148, 7, sum);
  block[155] = ' ';
}

// One pax record: "<len> <key>=<value>\n", where <len> counts itself.
std::string pax_record(std::string_view key, std::string_view value) {
  std::size_t body = 1 + key.size() + 1 + value.size() + 1;
  std::size_t len = body + 1;
  while (std::to_string(len).size() + body != len) ++len;
  return std::to_string(len) + " " + std::string(key) + "=" + std::string(value) + "\n";
}

void append_block(std::vector<std::byte>& out, const char* block) {
  auto* b = reinterpret_cast<const std::byte*>(block);
  out.insert(out.end(), b, b + kTarBlock);
}

}  // namespace

std::vector<std::byte> make_tar_header(std::string_view path, EntryType type, std::uint32_t mode,
                                       std::uint64_t size, std::int64_t mtime) {
  std::string stored(path);
  if (type == EntryType::directory) stored += '/';
  char typeflag = type == EntryType::directory ? '5' : '0';

  std::vector<std::byte> out;
  std::string_view prefix, name;
  bool fits = split_ustar(stored, prefix, name);
  bool big = size > kMaxOctal11;
  if (!fits || big) {
    std::string records;
    if (!fits) records += pax_record("path", stored);
    if (big) records += pax_record("size", std::to_string(size));
    char block[kTarBlock] = {};
    // A deterministic name for the extended header, as GNU tar and Python use.
    fill_block(block, "", "././@PaxHeader", 'x', 0644, records.size(), mtime);
    append_block(out, block);
    auto* r = reinterpret_cast<const std::byte*>(records.data());
    out.insert(out.end(), r, r + records.size());
    out.resize(out.size() + tar_padding(records.size()));
    if (!fits) {
      // A truncated name in the ustar block for readers that ignore pax.
      prefix = {};
      name = std::string_view(stored).substr(0, 100);
    }
  }
  char block[kTarBlock] = {};
  fill_block(block, prefix, name, typeflag, mode, big ? 0 : size, mtime);
  append_block(out, block);
  return out;
}

std::optional<std::uint64_t> parse_tar_number(std::span<const std::byte> field) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    std::uint64_t value = 0;
    for (std::size_t i = 1; i < field.size(); ++i) {
      if (value >> 56) return std::nullopt;
      value = value << 8 | static_cast<unsigned char>(field[i]);
    }
    return value;
  }
  // Readers differ on a field that starts with NUL and has digits after it (libarchive
  // and tarfile read 0, GNU tar the digits): refused as unreadable alike.
  const bool nul_first = field[0] == std::byte{0};
  std::uint64_t value = 0;
  bool digits = false;
  for (std::byte b : field) {
    const auto c = static_cast<char>(b);
    if (c >= '0' && c <= '7') {
      if (nul_first || value >> 60) return std::nullopt;
      value = value * 8 + static_cast<std::uint64_t>(c - '0');
      digits = true;
    } else if (c == ' ' || c == '\t' || c == '\0') {
      if (digits) break;
    } else {
      return std::nullopt;
    }
  }
  return value;
}

bool tar_checksum_matches(std::span<const std::byte, kTarBlock> header) {
  auto stored = parse_tar_number(header.subspan(148, 8));
  if (!stored) return false;
  // Every reader also takes the signed sum old BSD and Solaris tars wrote.
  std::uint64_t sum = 0;
  std::int64_t signed_sum = 0;
  for (std::size_t i = 0; i < kTarBlock; ++i) {
    const bool field = i >= 148 && i < 156;
    sum += field ? ' ' : static_cast<unsigned char>(header[i]);
    signed_sum += field ? ' ' : static_cast<signed char>(header[i]);
  }
  return sum == *stored || static_cast<std::uint64_t>(signed_sum) == *stored;
}

}  // namespace smpack
