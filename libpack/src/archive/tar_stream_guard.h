// Watches the raw tar stream on its way to libarchive and refuses, as ambiguous
// (Error::ambiguous, lint's archive-ambiguous), every construct that GNU tar, bsdtar
// (libarchive) and Python's tarfile do not read alike, so that what smpack checks is
// what any extractor writes. What passes is a strict subset of ustar, pax and GNU
// long names:
// - a member named by a GNU long-name record ('L'/'K') and a pax path/linkpath that
//   disagree (libarchive and tarfile take the GNU name, GNU tar the pax one);
// - two GNU long-name (or long-link) records for one member;
// - a pax size that is not a plain decimal; pax GNU.sparse.* records; a global pax
//   header ('g') that sets path, linkpath or size (GNU tar applies it, libarchive not);
// - typeflags outside 0-7, x, g, L, K (Solaris ACLs, GNU dumpdirs, sparse files, ...);
// - a non-regular member (link, directory, device) that declares data bytes;
// - a regular-file typeflag on a name ending in '/'; a backslash in a name;
// - a v7 or old-GNU header with bytes in the ustar prefix field.
// - a header with a bad checksum or size field, a second pax header, a NUL in pax
//   records, more than 32 extension headers for one member.
// It stops watching at the first zero block, where every reader stops.
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
  enum class Record { none, gnu_name, gnu_link, pax, global_pax };

  Result<void> on_header();
  Result<void> on_record_end();
  Result<void> check_member_header(std::uint64_t at, char type, std::uint64_t size) const;
  Error ambiguous(std::uint64_t at, const std::string& what) const;

  std::string archive_;
  std::uint64_t max_record_bytes_;
  std::array<std::byte, 512> header_{};
  std::size_t header_fill_ = 0;
  static constexpr int kMaxExtensionHeaders = 32;
  std::uint64_t position_ = 0;     // tar stream bytes fed so far
  int extensions_ = 0;             // extension headers since the last member header
  bool pax_seen_ = false;          // a pax header since the last member header
  std::uint64_t record_at_ = 0;    // where the current extension record's header starts
  std::uint64_t data_left_ = 0;    // bytes (with padding) of the current member's data
  std::uint64_t record_left_ = 0;  // of those, bytes of an extension record still to keep
  Record record_ = Record::none;
  std::string record_text_;
  std::optional<std::string> gnu_name_, gnu_link_, pax_path_, pax_link_;
  std::optional<std::uint64_t> pax_size_;
  bool watching_ = true;
};

}  // namespace smpack
