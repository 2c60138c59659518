#include "archive/tar_stream_guard.h"

#include <algorithm>
#include <string_view>

namespace smpack {
namespace {

constexpr std::size_t kBlock = 512;

// A numeric header field: octal digits (spaces and NULs around them), or base-256
// when the first byte has its high bit set. nullopt when it is neither.
std::optional<std::uint64_t> parse_number(std::span<const std::byte> field) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    std::uint64_t value = 0;
    for (std::size_t i = 1; i < field.size(); ++i) {
      if (value >> 56) return std::nullopt;
      value = value << 8 | static_cast<unsigned char>(field[i]);
    }
    return value;
  }
  std::uint64_t value = 0;
  bool digits = false;
  for (std::byte b : field) {
    const auto c = static_cast<char>(b);
    if (c >= '0' && c <= '7') {
      if (value >> 60) return std::nullopt;
      value = value * 8 + static_cast<std::uint64_t>(c - '0');
      digits = true;
    } else if (c == ' ' || c == '\0') {
      if (digits) break;
    } else {
      return std::nullopt;
    }
  }
  return value;
}

bool checksum_matches(std::span<const std::byte, kBlock> header) {
  auto stored = parse_number(header.subspan(148, 8));
  if (!stored) return false;
  std::uint64_t sum = 0;
  for (std::size_t i = 0; i < kBlock; ++i) {
    sum += (i >= 148 && i < 156) ? ' ' : static_cast<unsigned char>(header[i]);
  }
  return sum == *stored;
}

// "LEN key=value\n" records; the value of `key` in the last record naming it.
std::optional<std::string> pax_value(std::string_view records, std::string_view key) {
  std::optional<std::string> found;
  while (!records.empty()) {
    const auto space = records.find(' ');
    if (space == std::string_view::npos) break;
    std::uint64_t length = 0;
    for (char c : records.substr(0, space)) {
      if (c < '0' || c > '9' || length > records.size()) return found;
      length = length * 10 + static_cast<std::uint64_t>(c - '0');
    }
    if (length <= space + 1 || length > records.size()) break;
    std::string_view record = records.substr(space + 1, length - space - 2);  // no '\n'
    const auto eq = record.find('=');
    if (eq != std::string_view::npos && record.substr(0, eq) == key) {
      found = std::string(record.substr(eq + 1));
    }
    records.remove_prefix(length);
  }
  return found;
}

}  // namespace

TarStreamGuard::TarStreamGuard(std::string archive_name, std::uint64_t max_record_bytes)
    : archive_(std::move(archive_name)), max_record_bytes_(max_record_bytes) {}

Result<void> TarStreamGuard::feed(std::span<const std::byte> bytes) {
  while (watching_ && !bytes.empty()) {
    if (data_left_ > 0) {
      const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(data_left_, bytes.size()));
      const auto kept = static_cast<std::size_t>(std::min<std::uint64_t>(record_left_, n));
      record_text_.append(reinterpret_cast<const char*>(bytes.data()), kept);
      record_left_ -= kept;
      data_left_ -= n;
      bytes = bytes.subspan(n);
      if (data_left_ == 0) on_record_end();
      continue;
    }
    const std::size_t n = std::min(kBlock - header_fill_, bytes.size());
    std::copy_n(bytes.begin(), n, header_.begin() + static_cast<std::ptrdiff_t>(header_fill_));
    header_fill_ += n;
    bytes = bytes.subspan(n);
    if (header_fill_ == kBlock) {
      header_fill_ = 0;
      if (auto r = on_header(); !r) return r;
    }
  }
  return {};
}

Result<void> TarStreamGuard::on_header() {
  if (std::all_of(header_.begin(), header_.end(), [](std::byte b) { return b == std::byte{0}; })) {
    return {};  // end-of-archive blocks
  }
  auto size = parse_number(std::span(header_).subspan(124, 12));
  if (!checksum_matches(header_) || !size) {
    watching_ = false;  // libarchive reports the damage in its own words
    return {};
  }
  const char type = static_cast<char>(header_[156]);
  const std::uint64_t padded = (*size + kBlock - 1) / kBlock * kBlock;
  if (padded < *size) {
    watching_ = false;
    return {};
  }
  auto extension = [&](Record record) {
    record_ = record;
    record_text_.clear();
    record_left_ = *size <= max_record_bytes_ ? *size : 0;
    data_left_ = padded;
    if (data_left_ == 0) on_record_end();
  };
  switch (type) {
    case 'L':
      extension(Record::gnu_name);
      return {};
    case 'K':
      extension(Record::gnu_link);
      return {};
    case 'x':
      extension(Record::pax);
      return {};
    case 'g':
      extension(Record::none);  // global pax: names no member
      return {};
    default:
      break;
  }
  // A member header: its extensions end here.
  auto conflict = [&](const std::optional<std::string>& gnu, const std::optional<std::string>& pax,
                      std::string_view what) -> Result<void> {
    if (!gnu || !pax || *gnu == *pax) return {};
    return Error::bad_input(archive_ + ": member '" + *gnu + "': its GNU long " +
                            std::string(what) + " and its pax " + std::string(what) + " ('" + *pax +
                            "') disagree; GNU tar extracts it under the pax name, libarchive "
                            "and Python tarfile under the GNU one");
  };
  if (auto r = conflict(gnu_name_, pax_path_, "name"); !r) return r;
  if (auto r = conflict(gnu_link_, pax_link_, "link target"); !r) return r;
  const bool has_data = type == '0' || type == '\0' || type == '7' || type == 'S';
  const std::uint64_t data = pax_size_.value_or(*size);
  gnu_name_.reset();
  gnu_link_.reset();
  pax_path_.reset();
  pax_link_.reset();
  pax_size_.reset();
  if (has_data) {
    record_ = Record::none;
    record_left_ = 0;
    data_left_ = (data + kBlock - 1) / kBlock * kBlock;
    if (data_left_ < data) watching_ = false;
  }
  return {};
}

void TarStreamGuard::on_record_end() {
  auto trimmed = [&] { return record_text_.substr(0, record_text_.find('\0')); };
  switch (record_) {
    case Record::gnu_name:
      gnu_name_ = trimmed();
      break;
    case Record::gnu_link:
      gnu_link_ = trimmed();
      break;
    case Record::pax: {
      if (auto path = pax_value(record_text_, "path")) pax_path_ = std::move(*path);
      if (auto link = pax_value(record_text_, "linkpath")) pax_link_ = std::move(*link);
      auto size = pax_value(record_text_, "size");
      if (size && !size->empty() && size->size() < 20 &&
          std::all_of(size->begin(), size->end(), [](char c) { return c >= '0' && c <= '9'; })) {
        pax_size_ = std::stoull(*size);
      }
      break;
    }
    case Record::none:
      break;
  }
  record_ = Record::none;
  record_text_.clear();
}

}  // namespace smpack
