#include "archive/tar_stream_guard.h"

#include <algorithm>
#include <string_view>

#include "archive/tar_header.h"

namespace smpack {
namespace {

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
    if (records[length - 1] != '\n') break;  // libarchive stops at a malformed record
    std::string_view record = records.substr(space + 1, length - space - 2);  // no '\n'
    const auto eq = record.find('=');
    if (eq != std::string_view::npos && record.substr(0, eq) == key) {
      found = std::string(record.substr(eq + 1));
    }
    records.remove_prefix(length);
  }
  return found;
}

// Whether a record's key starts with GNU.sparse. (not a value that happens to hold it).
bool has_sparse_key(std::string_view records) {
  for (std::size_t at = records.find("GNU.sparse."); at != std::string_view::npos;
       at = records.find("GNU.sparse.", at + 1)) {
    if (at > 0 && records[at - 1] == ' ') return true;
  }
  return false;
}

bool plain_decimal(std::string_view text) {
  return !text.empty() && text.size() < 20 &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// Typeflags that are not in the subset every reader handles alike, by what writes them.
std::string_view vendor_type(char type) {
  switch (type) {
    case 'A':
      return "a Solaris ACL";
    case 'D':
      return "a GNU dumpdir";
    case 'E':
      return "a Solaris extended attribute";
    case 'I':
      return "an inode metadata record";
    case 'M':
      return "a GNU multi-volume continuation";
    case 'N':
      return "an old GNU long-name record";
    case 'S':
      return "a GNU sparse file";
    case 'V':
      return "a GNU volume label";
    case 'X':
      return "a Solaris extended header";
    default:
      return "an unknown type";
  }
}

std::string field_text(std::span<const std::byte> field) {
  std::string text(reinterpret_cast<const char*>(field.data()), field.size());
  return text.substr(0, text.find('\0'));
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
      position_ += n;
      bytes = bytes.subspan(n);
      if (data_left_ == 0) {
        if (auto r = on_record_end(); !r) return r;
      }
      continue;
    }
    const std::size_t n = std::min(kTarBlock - header_fill_, bytes.size());
    std::copy_n(bytes.begin(), n, header_.begin() + static_cast<std::ptrdiff_t>(header_fill_));
    header_fill_ += n;
    position_ += n;
    bytes = bytes.subspan(n);
    if (header_fill_ == kTarBlock) {
      header_fill_ = 0;
      if (auto r = on_header(); !r) return r;
    }
  }
  return {};
}

Result<void> TarStreamGuard::on_header() {
  if (std::all_of(header_.begin(), header_.end(), [](std::byte b) { return b == std::byte{0}; })) {
    watching_ = false;  // the end of the archive: every reader stops at a zero block
    return {};
  }
  const std::uint64_t header_at = position_ - kTarBlock;
  auto size = parse_tar_number(std::span(header_).subspan(124, 12));
  // A damaged header is libarchive's to report (ArchiveReader stops there, where libarchive
  // alone would skip the block); a size field that readers parse differently is not damage.
  if (!tar_checksum_matches(header_)) {
    watching_ = false;
    return {};
  }
  if (!size) return ambiguous(header_at, "a header whose size field is not a plain octal number");
  const char type = static_cast<char>(header_[156]);
  const std::uint64_t padded = (*size + kTarBlock - 1) / kTarBlock * kTarBlock;
  if (padded < *size) return ambiguous(header_at, "a header whose size does not fit 64 bits");
  const std::uint64_t at = header_at;
  if (type == 'L' || type == 'K' || type == 'x' || type == 'g') {
    // libarchive gives up after 32 extension headers for one member; others read on.
    if (++extensions_ > kMaxExtensionHeaders)
      return ambiguous(at, "more than " + std::to_string(kMaxExtensionHeaders) +
                               " extension headers for one member");
  }
  auto extension = [&](Record record) -> Result<void> {
    record_ = record;
    record_at_ = at;
    record_text_.clear();
    record_left_ = *size <= max_record_bytes_ ? *size : 0;
    data_left_ = padded;
    if (data_left_ == 0) return on_record_end();
    return {};
  };
  switch (type) {
    case 'L':
      if (gnu_name_) return ambiguous(at, "a second GNU long-name record for one member");
      return extension(Record::gnu_name);
    case 'K':
      if (gnu_link_) return ambiguous(at, "a second GNU long-link record for one member");
      return extension(Record::gnu_link);
    case 'x':
      // libarchive applies only the last of two, tarfile the first.
      if (pax_seen_) return ambiguous(at, "a second pax header for one member");
      pax_seen_ = true;
      return extension(Record::pax);
    case 'g':
      return extension(Record::global_pax);
    case '0':
    case '\0':
    case '1':
    case '2':
    case '3':
    case '4':
    case '5':
    case '6':
    case '7':
      break;
    default:
      return ambiguous(
          at, "typeflag '" + std::string(1, type) + "' (" + std::string(vendor_type(type)) + ")");
  }
  if (auto r = check_member_header(at, type, *size); !r) return r;
  // A member header: its extensions end here.
  auto conflict = [&](const std::optional<std::string>& gnu, const std::optional<std::string>& pax,
                      std::string_view what) -> Result<void> {
    if (!gnu || !pax || *gnu == *pax) return {};
    return ambiguous(at, "member '" + *gnu + "': its GNU long " + std::string(what) +
                             " and its pax " + std::string(what) + " ('" + *pax +
                             "') disagree (GNU tar takes the pax one, libarchive and Python "
                             "tarfile the GNU one)");
  };
  if (auto r = conflict(gnu_name_, pax_path_, "name"); !r) return r;
  if (auto r = conflict(gnu_link_, pax_link_, "link target"); !r) return r;
  const bool has_data = type == '0' || type == '\0' || type == '7';
  const std::uint64_t data = pax_size_.value_or(*size);
  extensions_ = 0;
  pax_seen_ = false;
  gnu_name_.reset();
  gnu_link_.reset();
  pax_path_.reset();
  pax_link_.reset();
  pax_size_.reset();
  if (has_data) {
    record_ = Record::none;
    record_left_ = 0;
    data_left_ = (data + kTarBlock - 1) / kTarBlock * kTarBlock;
    if (data_left_ < data) return ambiguous(at, "a pax size that does not fit 64 bits");
  }
  return {};
}

Result<void> TarStreamGuard::on_record_end() {
  auto trimmed = [&] { return record_text_.substr(0, record_text_.find('\0')); };
  const Record record = record_;
  record_ = Record::none;
  const std::uint64_t at = record_at_;
  switch (record) {
    case Record::gnu_name:
      gnu_name_ = trimmed();
      break;
    case Record::gnu_link:
      gnu_link_ = trimmed();
      break;
    case Record::pax: {
      // C strings to libarchive and GNU tar, bytes to tarfile.
      if (record_text_.find('\0') != std::string::npos)
        return ambiguous(at, "a pax header with a NUL byte in its records");
      if (has_sparse_key(record_text_))
        return ambiguous(at, "a pax header describing a GNU sparse file");
      if (auto path = pax_value(record_text_, "path")) pax_path_ = std::move(*path);
      if (auto link = pax_value(record_text_, "linkpath")) pax_link_ = std::move(*link);
      if (auto size = pax_value(record_text_, "size")) {
        if (!plain_decimal(*size))
          return ambiguous(at, "a pax size '" + *size + "' that is not a plain decimal number");
        pax_size_ = std::stoull(*size);
      }
      break;
    }
    case Record::global_pax:
      // libarchive ignores a global header's names and sizes; GNU tar applies them to
      // every member after it.
      for (std::string_view key : {"path", "linkpath", "size"}) {
        if (pax_value(record_text_, key))
          return ambiguous(at, "a global pax header that sets '" + std::string(key) + "'");
      }
      if (record_text_.find('\0') != std::string::npos || has_sparse_key(record_text_))
        return ambiguous(at, "a global pax header with a NUL byte or a GNU sparse record");
      break;
    case Record::none:
      break;
  }
  record_text_.clear();
  return {};
}

Error TarStreamGuard::ambiguous(std::uint64_t at, const std::string& what) const {
  return Error::ambiguous_input(
      archive_ + ": " + what + " at tar offset " + std::to_string(at) +
      ": GNU tar, bsdtar and Python tarfile do not read it alike, so what smpack checks "
      "is not what an extractor writes (archive-ambiguous)");
}

Result<void> TarStreamGuard::check_member_header(std::uint64_t at, char type,
                                                 std::uint64_t size) const {
  const std::span<const std::byte> header(header_);
  const std::string magic = field_text(header.subspan(257, 6));
  const bool posix = magic == "ustar" && static_cast<char>(header[262]) == '\0';
  std::string name = field_text(header.subspan(0, 100));
  const std::string prefix = field_text(header.subspan(345, 155));
  if (posix && !prefix.empty()) name = prefix + (prefix.back() == '/' ? "" : "/") + name;
  if (!posix && std::any_of(header.begin() + 345, header.begin() + 500,
                            [](std::byte b) { return b != std::byte{0}; })) {
    // A v7 or old-GNU header keeps other fields (or nothing) where ustar has its prefix:
    // some readers join it to the name, others do not.
    return ambiguous(at, "member '" + name + "': a " +
                             (magic.rfind("ustar", 0) == 0 ? "old-GNU" : "v7") +
                             " header with bytes where ustar keeps the name prefix");
  }
  const std::string& path = pax_path_ ? *pax_path_ : gnu_name_ ? *gnu_name_ : name;
  const bool regular = type == '0' || type == '\0' || type == '7';
  if (regular && !path.empty() && path.back() == '/')
    return ambiguous(at, "member '" + path + "': a regular-file typeflag on a name ending in '/'");
  if (path.find('\\') != std::string::npos) {
    return ambiguous(at, "member '" + path +
                             "': a backslash in the name (one file on Linux, a folder "
                             "separator to some readers)");
  }
  const std::uint64_t data = pax_size_.value_or(size);
  if (!regular && data > 0) {
    return ambiguous(at, "member '" + path + "': typeflag '" + std::string(1, type) +
                             "' declares " + std::to_string(data) +
                             " bytes of data (libarchive reads them as the member's, GNU tar "
                             "and Python tarfile as the next header)");
  }
  return {};
}

}  // namespace smpack
