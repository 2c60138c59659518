#include "archive/gzip_decoder.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>
#include <zlib.h>

#include <algorithm>
#include <cstring>
#include <variant>
#include <vector>

#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr std::size_t kInputBufferBytes = 1 << 20;
constexpr std::uint8_t kFlagHcrc = 0x02, kFlagExtra = 0x04, kFlagName = 0x08, kFlagComment = 0x10,
                       kReservedFlags = 0xe0;
constexpr std::size_t kReadAheadBytes = 16;
constexpr std::size_t kWindowBytes = 32768;
constexpr int kRawDeflate = -15;

}  // namespace

std::variant<GzipMemberHeader, std::string> parse_gzip_member_header(
    std::span<const std::byte> bytes) {
  const auto* h = reinterpret_cast<const std::uint8_t*>(bytes.data());
  if (bytes.size() < 10) return std::string("truncated gzip header");
  if (h[0] != 0x1f || h[1] != 0x8b) return std::string("not a gzip header");
  if (h[2] != 8) return "compression method " + std::to_string(h[2]) + " is not deflate";
  const std::uint8_t flags = h[3];
  if (flags & kReservedFlags) return std::string("reserved header flags are set");
  GzipMemberHeader header;
  std::copy_n(h, 10, header.fixed.begin());
  header.info.present = true;
  header.info.mtime = static_cast<std::uint32_t>(load_le(bytes.subspan(4), 4));
  header.info.extra_flags = h[8];
  header.info.os = h[9];
  std::size_t cursor = 10;
  if (flags & kFlagExtra) {
    if (bytes.size() < cursor + 2) return std::string("truncated FEXTRA length");
    const auto xlen = static_cast<std::size_t>(load_le(bytes.subspan(cursor), 2));
    cursor += 2;
    if (bytes.size() < cursor + xlen) return std::string("truncated FEXTRA field");
    cursor += xlen;
    header.info.has_extra = true;
  }
  // FNAME, then FCOMMENT: zero-terminated, each at most 64 KiB.
  for (const std::uint8_t flag : {kFlagName, kFlagComment}) {
    if ((flags & flag) == 0) continue;
    const std::size_t string_start = cursor;
    for (;;) {
      if (cursor >= bytes.size()) return std::string("the header ends inside a string field");
      const char c = static_cast<char>(bytes[cursor++]);
      if (c == '\0') break;
      if (cursor - string_start > kMaxHeaderStringBytes) {
        return std::string("a header string is longer than 64 KiB");
      }
      if (flag == kFlagName) header.info.file_name += c;
    }
  }
  if (flags & kFlagHcrc) {
    if (bytes.size() < cursor + 2) return std::string("truncated header CRC");
    cursor += 2;
  }
  header.length = cursor;
  return header;
}

struct GzipDecoder::Impl {
  enum class State { header, body, trailer, done };

  Source source;
  std::string name;
  std::vector<std::byte> buffer = std::vector<std::byte>(kInputBufferBytes);
  std::size_t begin = 0, end = 0;  // unread input is buffer[begin, end)
  bool input_exhausted = false;
  std::uint64_t consumed_before_buffer = 0;  // input offset of buffer[0]

  State state = State::header;
  inflate_state inflater{};
  // zlib's inflate, used instead of ISA-L's when boundaries are reported or decoding
  // resumes mid-member.
  bool use_zlib = false;
  z_stream zlib{};
  bool zlib_ready = false;
  int prime_bits = 0;  // of a resumed start: bits of the first byte that belong to the block
  DeflateBoundaryObserver boundary_observer;
  std::uint32_t member_crc = 0;
  std::uint32_t member_size = 0;  // mod 2^32, as ISIZE
  std::uint64_t member_start = 0;
  std::uint64_t member_decoded = 0;
  std::array<std::uint8_t, 10> member_header{};
  MemberObserver observer;
  std::uint64_t member_count = 0;
  std::uint64_t current_member = 0;  // index (from 0, as the smpack index counts) of the one read
  std::uint64_t decoded = 0;
  GzipHeaderInfo first;

  ~Impl() {
    if (zlib_ready) inflateEnd(&zlib);
  }

  std::uint64_t offset() const { return consumed_before_buffer + begin; }

  Result<void> start_zlib() {
    if (!zlib_ready) {
      if (inflateInit2(&zlib, kRawDeflate) != Z_OK) return Error::internal("zlib: out of memory");
      zlib_ready = true;
      return {};
    }
    if (inflateReset(&zlib) != Z_OK) return Error::internal("zlib: cannot reset inflate");
    return {};
  }

  void report_boundary(std::uint64_t bit_offset, bool at_member_start) {
    const DeflateBoundary at{current_member,
                             member_start,
                             decoded - member_decoded,
                             bit_offset,
                             decoded,
                             member_crc,
                             {}};
    boundary_observer(at, [this, at_member_start] {
      std::vector<std::byte> window;
      if (at_member_start) return window;
      window.resize(kWindowBytes);
      uInt held = 0;
      inflateGetDictionary(&zlib, reinterpret_cast<Bytef*>(window.data()), &held);
      window.resize(held);
      return window;
    });
  }

  Error corrupt(const std::string& what) const {
    return Error::bad_input(name + ": corrupt gzip data: " + what + " (gzip member " +
                            std::to_string(current_member) + ", byte offset " +
                            std::to_string(offset()) + ")");
  }

  // Makes at least `want` unread bytes available unless the input ends first.
  Result<std::size_t> fill(std::size_t want) {
    if (end - begin >= want || input_exhausted) return end - begin;
    // Keep a few consumed bytes: ISA-L may have read them ahead of the end of a
    // member, and they are handed back at ISAL_BLOCK_FINISH.
    std::size_t drop = begin - std::min<std::size_t>(begin, kReadAheadBytes);
    if (drop > 0) {
      std::memmove(buffer.data(), buffer.data() + drop, end - drop);
      consumed_before_buffer += drop;
      end -= drop;
      begin -= drop;
    }
    while (end - begin < want && !input_exhausted) {
      auto got = source(std::span(buffer).subspan(end));
      if (!got) return std::move(got).error();
      if (*got == 0) input_exhausted = true;
      end += *got;
    }
    return end - begin;
  }

  // Parses one member header; returns false at a clean end of input.
  Result<bool> read_header() {
    current_member = member_count;
    auto have = fill(kMaxGzipHeaderBytes);
    if (!have) return std::move(have).error();
    if (*have == 0) {
      if (member_count == 0) return Error::bad_input(name + ": the file is empty");
      return false;
    }
    const auto* h = reinterpret_cast<const std::uint8_t*>(buffer.data() + begin);
    if (*have < 2 || h[0] != 0x1f || h[1] != 0x8b) {
      return Error::bad_input(name + ": " + std::to_string(*have >= 10 ? 10 : *have) +
                              "+ bytes of trailing data that is not gzip after gzip member " +
                              std::to_string(member_count - 1) + " at byte offset " +
                              std::to_string(offset()));
    }
    ++member_count;
    member_start = offset();
    auto parsed = parse_gzip_member_header(std::span(buffer).subspan(begin, *have));
    if (auto* problem = std::get_if<std::string>(&parsed)) return corrupt(*problem);
    const auto& header = std::get<GzipMemberHeader>(parsed);
    member_header = header.fixed;
    if (member_count == 1) first = header.info;
    begin += header.length;
    member_crc = 0;
    member_size = 0;
    member_decoded = 0;
    if (use_zlib) {
      if (auto r = start_zlib(); !r) return std::move(r).error();
      if (boundary_observer) report_boundary(offset() * 8, true);
    } else {
      isal_inflate_init(&inflater);
      inflater.crc_flag = ISAL_DEFLATE;
    }
    return true;
  }

  Result<void> read_trailer() {
    auto have = fill(8);
    if (!have) return std::move(have).error();
    if (*have < 8) return corrupt("the file ends inside a member trailer (truncated)");
    const auto trailer = std::span<const std::byte>(buffer).subspan(begin, 8);
    if (load_le(trailer, 4) != member_crc) return corrupt("CRC-32 mismatch");
    if (load_le(trailer.subspan(4), 4) != member_size) return corrupt("length (ISIZE) mismatch");
    begin += 8;
    if (observer) observer({member_start, offset() - member_start, member_decoded, member_header});
    return {};
  }

  void count(std::span<const std::byte> produced) {
    member_crc = crc32_gzip_refl(
        member_crc, reinterpret_cast<const unsigned char*>(produced.data()), produced.size());
    member_size += static_cast<std::uint32_t>(produced.size());
    decoded += produced.size();
    member_decoded += produced.size();
  }

  Result<std::size_t> inflate_zlib(std::span<std::byte> out) {
    if (!zlib_ready) return Error::internal("zlib: cannot start inflate (out of memory)");
    for (;;) {
      if (begin == end) {
        auto have = fill(1);
        if (!have) return std::move(have).error();
        if (*have == 0) return corrupt("the file ends inside compressed data (truncated)");
      }
      if (prime_bits > 0) {  // the first byte's high bits start the block
        const auto shared = static_cast<int>(buffer[begin++]);
        if (inflatePrime(&zlib, prime_bits, shared >> (8 - prime_bits)) != Z_OK)
          return Error::internal("zlib: cannot prime inflate");
        prime_bits = 0;
        continue;
      }
      zlib.next_in = reinterpret_cast<Bytef*>(buffer.data() + begin);
      zlib.avail_in = static_cast<uInt>(end - begin);
      zlib.next_out = reinterpret_cast<Bytef*>(out.data());
      zlib.avail_out = static_cast<uInt>(out.size());
      const int rc = inflate(&zlib, boundary_observer ? Z_BLOCK : Z_NO_FLUSH);
      if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR) {
        return corrupt(std::string("invalid deflate data (") +
                       (zlib.msg ? zlib.msg : "zlib error " + std::to_string(rc)) + ")");
      }
      begin += (end - begin) - zlib.avail_in;
      const std::size_t produced = out.size() - zlib.avail_out;
      count(out.first(produced));
      if (rc == Z_STREAM_END) {
        state = State::trailer;
        return produced;
      }
      // Just after a block's end-of-block code: bits 0-2 of data_type are the bits of
      // the last byte taken that the next block uses. 64 marks the final block's end,
      // where no block follows (Z_BLOCK stops there before reporting the stream's end).
      if (boundary_observer && (zlib.data_type & 128) != 0 && (zlib.data_type & 64) == 0)
        report_boundary(offset() * 8 - static_cast<std::uint64_t>(zlib.data_type & 7), false);
      if (produced > 0) return produced;
    }
  }

  Result<std::size_t> inflate_some(std::span<std::byte> out) {
    if (use_zlib) return inflate_zlib(out);
    for (;;) {
      if (begin == end) {
        auto have = fill(1);
        if (!have) return std::move(have).error();
        if (*have == 0) return corrupt("the file ends inside compressed data (truncated)");
      }
      inflater.next_in = reinterpret_cast<std::uint8_t*>(buffer.data() + begin);
      inflater.avail_in = static_cast<std::uint32_t>(end - begin);
      inflater.next_out = reinterpret_cast<std::uint8_t*>(out.data());
      inflater.avail_out = static_cast<std::uint32_t>(out.size());
      int rc = isal_inflate(&inflater);
      if (rc < 0) return corrupt("invalid deflate data (ISA-L error " + std::to_string(rc) + ")");
      std::size_t used = (end - begin) - inflater.avail_in;
      begin += used;
      std::size_t produced = out.size() - inflater.avail_out;
      count(out.first(produced));
      if (inflater.block_state == ISAL_BLOCK_FINISH) {
        // ISA-L reads ahead into its bit buffer; whole bytes there belong to the trailer.
        std::size_t unread = inflater.read_in_length / 8;
        begin -= unread;
        state = State::trailer;
        return produced;
      }
      if (produced > 0) return produced;
    }
  }
};

GzipDecoder::GzipDecoder(Source source, std::string display_name)
    : impl_(std::make_unique<Impl>()) {
  impl_->source = std::move(source);
  impl_->name = std::move(display_name);
}
GzipDecoder::GzipDecoder(Source source, std::string display_name, const DeflateBoundary& from)
    : GzipDecoder(std::move(source), std::move(display_name)) {
  auto& s = *impl_;
  s.use_zlib = true;
  s.consumed_before_buffer = from.bit_offset / 8;
  s.prime_bits = static_cast<int>((8 - from.bit_offset % 8) % 8);
  s.member_count = from.member + 1;
  s.current_member = from.member;
  s.member_start = from.member_file_offset;
  s.member_crc = from.crc;
  s.member_decoded = from.tar_offset - from.member_tar_offset;
  s.member_size = static_cast<std::uint32_t>(s.member_decoded);
  s.decoded = from.tar_offset;
  s.state = Impl::State::body;
  s.first.present = true;
  if (inflateInit2(&s.zlib, kRawDeflate) == Z_OK) {
    s.zlib_ready = true;
    // A window that zlib refuses leaves the stream unready: reading says so.
    if (!from.window.empty() &&
        inflateSetDictionary(&s.zlib, reinterpret_cast<const Bytef*>(from.window.data()),
                             static_cast<uInt>(from.window.size())) != Z_OK) {
      inflateEnd(&s.zlib);
      s.zlib_ready = false;
    }
  }
}
GzipDecoder::GzipDecoder(GzipDecoder&&) noexcept = default;
GzipDecoder& GzipDecoder::operator=(GzipDecoder&&) noexcept = default;
GzipDecoder::~GzipDecoder() = default;

Result<std::size_t> GzipDecoder::read(std::span<std::byte> out) {
  auto& s = *impl_;
  if (out.empty()) return std::size_t{0};
  if (out.size() > 0x7fffffff) out = out.first(0x7fffffff);
  for (;;) {
    switch (s.state) {
      case Impl::State::done:
        return std::size_t{0};
      case Impl::State::header: {
        auto started = s.read_header();
        if (!started) return std::move(started).error();
        s.state = *started ? Impl::State::body : Impl::State::done;
        break;
      }
      case Impl::State::body: {
        auto produced = s.inflate_some(out);
        if (!produced) return produced;
        if (*produced > 0) return produced;
        break;
      }
      case Impl::State::trailer: {
        if (auto r = s.read_trailer(); !r) return std::move(r).error();
        s.state = Impl::State::header;
        break;
      }
    }
  }
}

void GzipDecoder::set_member_observer(MemberObserver observer) {
  impl_->observer = std::move(observer);
}
void GzipDecoder::set_boundary_observer(DeflateBoundaryObserver observer) {
  impl_->boundary_observer = std::move(observer);
  impl_->use_zlib = true;
}
const GzipHeaderInfo& GzipDecoder::first_header() const {
  return impl_->first;
}
std::uint64_t GzipDecoder::members() const {
  return impl_->member_count;
}
std::uint64_t GzipDecoder::compressed_offset() const {
  return impl_->offset();
}
std::uint64_t GzipDecoder::decoded_bytes() const {
  return impl_->decoded;
}

}  // namespace smpack
