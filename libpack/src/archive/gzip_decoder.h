// A streaming decoder for gzip files of one or many members (RFC 1952), on
// ISA-L's inflate. Stricter than gzip(1): every member's CRC-32 and ISIZE are
// checked, a truncated member and any byte after the last member are errors,
// and reserved header flags are refused. Messages give the member number and
// the compressed offset.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <variant>

#include "smpack/archive_reader.h"
#include "smpack/result.h"

namespace smpack {

// A gzip member's header, parsed from its first bytes.
struct GzipMemberHeader {
  std::size_t length = 0;  // of the whole header, optional fields included
  GzipHeaderInfo info;
  std::array<std::uint8_t, 10> fixed{};  // the first ten bytes as stored
};
// Two strings of 64 KiB, FEXTRA's 64 KiB and the fixed fields.
inline constexpr std::size_t kMaxHeaderStringBytes = 1 << 16;
inline constexpr std::size_t kMaxGzipHeaderBytes = 12 + 3 * (kMaxHeaderStringBytes + 1) + 2;
// The header at the start of `bytes`, which hold all of it unless the input ends
// sooner; otherwise what is wrong with it, for the caller to place in the file.
std::variant<GzipMemberHeader, std::string> parse_gzip_member_header(
    std::span<const std::byte> bytes);

class GzipDecoder {
 public:
  using MemberObserver = std::function<void(const GzipMemberInfo&)>;
  // Fills `out` with raw input bytes; returns how many (0 at end of input).
  using Source = std::function<Result<std::size_t>(std::span<std::byte> out)>;

  GzipDecoder(Source source, std::string display_name);
  // Decoding that resumes at `from` (a boundary reported by an earlier decoder of the
  // same file): `source` yields the file from byte from.bit_offset / 8 on. The rest of
  // that member is checked against its trailer as usual.
  GzipDecoder(Source source, std::string display_name, const DeflateBoundary& from);
  GzipDecoder(GzipDecoder&&) noexcept;
  GzipDecoder& operator=(GzipDecoder&&) noexcept;
  ~GzipDecoder();

  // Decoded bytes, up to out.size(); 0 only after the last member.
  Result<std::size_t> read(std::span<std::byte> out);

  void set_member_observer(MemberObserver observer);
  // Before the first read: reports each member's start and every block boundary after
  // it, and decodes with zlib, whose inflate can stop there (ISA-L's cannot).
  void set_boundary_observer(DeflateBoundaryObserver observer);
  const GzipHeaderInfo& first_header() const;
  std::uint64_t members() const;            // members started so far
  std::uint64_t compressed_offset() const;  // input bytes consumed so far
  std::uint64_t decoded_bytes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace smpack
