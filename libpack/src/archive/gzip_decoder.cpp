#include "archive/gzip_decoder.h"

#include <isa-l/crc.h>
#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr std::size_t kInputBufferBytes = 1 << 20;
constexpr std::uint8_t kFlagHcrc = 0x02, kFlagExtra = 0x04, kFlagName = 0x08, kFlagComment = 0x10,
                       kReservedFlags = 0xe0;
constexpr std::size_t kMaxHeaderStringBytes = 1 << 16;
constexpr std::size_t kReadAheadBytes = 16;

}  // namespace

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

  std::uint64_t offset() const { return consumed_before_buffer + begin; }

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

  Result<void> skip_string(std::size_t& cursor, std::string* into) {
    for (;;) {
      auto have = fill(cursor + 1);
      if (!have) return std::move(have).error();
      if (*have <= cursor) return corrupt("the header ends inside a string field");
      char c = static_cast<char>(buffer[begin + cursor++]);
      if (c == '\0') return {};
      if (cursor > kMaxHeaderStringBytes) return corrupt("a header string is longer than 64 KiB");
      if (into) *into += c;
    }
  }

  // Parses one member header; returns false at a clean end of input.
  Result<bool> read_header() {
    current_member = member_count;
    auto have = fill(10);
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
    if (*have < 10) return corrupt("truncated gzip header");
    if (h[2] != 8) return corrupt("compression method " + std::to_string(h[2]) + " is not deflate");
    std::uint8_t flags = h[3];
    if (flags & kReservedFlags) return corrupt("reserved header flags are set");
    std::copy_n(h, 10, member_header.begin());
    GzipHeaderInfo info;
    info.present = true;
    info.mtime = static_cast<std::uint32_t>(load_le(std::as_bytes(std::span(h + 4, 4)), 4));
    info.extra_flags = h[8];
    info.os = h[9];
    std::size_t cursor = 10;
    if (flags & kFlagExtra) {
      auto got = fill(cursor + 2);
      if (!got) return std::move(got).error();
      if (*got < cursor + 2) return corrupt("truncated FEXTRA length");
      const auto xlen =
          static_cast<std::size_t>(load_le(std::span(buffer).subspan(begin + cursor), 2));
      cursor += 2;
      got = fill(cursor + xlen);
      if (!got) return std::move(got).error();
      if (*got < cursor + xlen) return corrupt("truncated FEXTRA field");
      cursor += xlen;
      info.has_extra = true;
    }
    if (flags & kFlagName) {
      if (auto r = skip_string(cursor, &info.file_name); !r) return std::move(r).error();
    }
    if (flags & kFlagComment) {
      if (auto r = skip_string(cursor, nullptr); !r) return std::move(r).error();
    }
    if (flags & kFlagHcrc) {
      auto got = fill(cursor + 2);
      if (!got) return std::move(got).error();
      if (*got < cursor + 2) return corrupt("truncated header CRC");
      cursor += 2;
    }
    if (member_count == 1) first = info;
    begin += cursor;
    isal_inflate_init(&inflater);
    inflater.crc_flag = ISAL_DEFLATE;
    member_crc = 0;
    member_size = 0;
    member_decoded = 0;
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

  Result<std::size_t> inflate_some(std::span<std::byte> out) {
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
      member_crc =
          crc32_gzip_refl(member_crc, reinterpret_cast<unsigned char*>(out.data()), produced);
      member_size += static_cast<std::uint32_t>(produced);
      decoded += produced;
      member_decoded += produced;
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
