// Watches the raw tar stream on its way to libarchive for what libarchive resolves
// silently but other readers resolve differently: one member named both by a GNU
// long-name record ('L'/'K') and by a pax record (path/linkpath) that disagree.
// libarchive, bsdtar and Python's tarfile take the GNU name, GNU tar the pax one, so a
// scanner and an extractor would see different files.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "smpack/result.h"

namespace smpack {

class TarStreamGuard {
 public:
  TarStreamGuard(std::string archive_name, std::uint64_t max_record_bytes);

  // The next bytes of the tar stream, in order. bad_input on a conflict, naming the
  // member; malformed headers are left to libarchive (the guard stops watching).
  Result<void> feed(std::span<const std::byte> bytes);

 private:
  enum class Record { none, gnu_name, gnu_link, pax };

  Result<void> on_header();
  void on_record_end();

  std::string archive_;
  std::uint64_t max_record_bytes_;
  std::array<std::byte, 512> header_{};
  std::size_t header_fill_ = 0;
  std::uint64_t data_left_ = 0;    // bytes (with padding) of the current member's data
  std::uint64_t record_left_ = 0;  // of those, bytes of an extension record still to keep
  Record record_ = Record::none;
  std::string record_text_;
  std::optional<std::string> gnu_name_, gnu_link_, pax_path_, pax_link_;
  std::optional<std::uint64_t> pax_size_;
  bool watching_ = true;
};

}  // namespace smpack
