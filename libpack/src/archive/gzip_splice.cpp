#include "archive/gzip_splice.h"

#include <zlib.h>

#include "archive/gzip_codec.h"
#include "util/le_bytes.h"

namespace smpack {
namespace {

constexpr std::uint64_t kWindowBytes = 32768;
constexpr std::size_t kPieceBytes = 1 << 20;

struct DeflateStream {
  z_stream z{};
  bool ready = false;
  ~DeflateStream() {
    if (ready) deflateEnd(&z);
  }
};

using Write = std::function<Result<void>(std::span<const std::byte>)>;

// Deflates `input` (all of it; with Z_FINISH, to the stream's end) and writes the output.
Result<void> deflate_into(z_stream& z, std::span<const std::byte> input, int flush,
                          const Write& write) {
  std::array<std::byte, 1 << 16> out{};
  z.next_in = reinterpret_cast<Bytef*>(const_cast<std::byte*>(input.data()));
  z.avail_in = static_cast<uInt>(input.size());
  for (;;) {
    z.next_out = reinterpret_cast<Bytef*>(out.data());
    z.avail_out = static_cast<uInt>(out.size());
    const int rc = deflate(&z, flush);
    if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
      return Error::internal("zlib: deflate failed");
    if (auto r = write(std::span(out).first(out.size() - z.avail_out)); !r) return r;
    if (rc == Z_STREAM_END) return {};
    if (flush == Z_NO_FLUSH && z.avail_in == 0 && z.avail_out != 0) return {};
  }
}

}  // namespace

void SplicePointFinder::on_boundary(const DeflateBoundary& at,
                                    const std::function<std::vector<std::byte>()>& fetch_window) {
  const bool member_start = at.tar_offset == at.member_tar_offset;
  if (!member_start && kept_any_ && at.tar_offset < last_kept_ + kWindowBytes) return;
  DeflateBoundary kept = at;
  kept.window = fetch_window();
  kept_any_ = true;
  last_kept_ = at.tar_offset;
  if (kept.tar_offset <= bound_) {
    best_ = std::move(kept);
  } else {
    pending_.push_back(std::move(kept));
  }
}

void SplicePointFinder::cut_not_before(std::uint64_t tar_offset) {
  bound_ = std::max(bound_, tar_offset);
  while (!pending_.empty() && pending_.front().tar_offset <= bound_) {
    best_ = std::move(pending_.front());
    pending_.pop_front();
  }
}

std::optional<DeflateBoundary> SplicePointFinder::choose(std::uint64_t cut) const {
  for (auto it = pending_.rbegin(); it != pending_.rend(); ++it) {
    if (it->tar_offset <= cut) return *it;
  }
  if (best_ && best_->tar_offset <= cut) return best_;
  return std::nullopt;
}

std::uint64_t SplicePointFinder::kept_bytes_at_least() const {
  // The nearest cut to best_ is at best_ itself; later cuts and boundaries keep more.
  return best_ ? kept_file_bytes(*best_, best_->tar_offset) : 0;
}

std::uint64_t kept_file_bytes(const DeflateBoundary& from, std::uint64_t cut) {
  return cut > from.member_tar_offset ? from.bit_offset / 8 : from.member_file_offset;
}

GzipDecoder resume_at(const ByteSource& bytes, std::uint64_t origin, std::string name,
                      const DeflateBoundary& from) {
  return GzipDecoder(
      [&bytes, position = from.bit_offset / 8 -
                          origin](std::span<std::byte> out) mutable -> Result<std::size_t> {
        const auto n = static_cast<std::size_t>(
            std::min<std::uint64_t>(out.size(), bytes.size() - std::min(bytes.size(), position)));
        if (auto r = bytes.read_at(position, out.first(n)); !r) return std::move(r).error();
        position += n;
        return n;
      },
      std::move(name), from);
}

Result<DeflateBoundary> nearer_boundary(const ByteSource& bytes, const std::string& name,
                                        const DeflateBoundary& from, std::uint64_t cut) {
  SplicePointFinder finder;
  finder.on_boundary(from, [&from] { return from.window; });
  finder.cut_not_before(cut);
  GzipDecoder decoder = resume_at(bytes, 0, name, from);
  decoder.set_boundary_observer(
      [&finder](const DeflateBoundary& at, const std::function<std::vector<std::byte>()>& window) {
        finder.on_boundary(at, window);
      });
  std::vector<std::byte> buffer(64 << 10);
  for (std::uint64_t at = from.tar_offset; at < cut;) {
    const auto want = static_cast<std::size_t>(std::min<std::uint64_t>(buffer.size(), cut - at));
    auto got = decoder.read(std::span(buffer).first(want));
    if (!got) return std::move(got).error();
    if (*got == 0) break;
    at += *got;
  }
  return finder.choose(cut).value_or(from);
}

Result<std::uint64_t> end_member_at(const ByteSource& bytes, std::uint64_t origin,
                                    const std::string& name, GzipDecoder& rest,
                                    const DeflateBoundary& from, std::uint64_t cut, int level,
                                    const Write& write) {
  const std::uint64_t first_byte = from.bit_offset / 8;
  const int used_bits = static_cast<int>(from.bit_offset % 8);
  if (first_byte < origin || cut < from.tar_offset || cut <= from.member_tar_offset)
    return Error::internal("splice: the boundary lies outside the bytes given");
  // The kept blocks' last bits share this byte with the block being replaced.
  std::byte shared{0};
  if (used_bits > 0) {
    if (auto r = bytes.read_at(first_byte - origin, std::span(&shared, 1)); !r)
      return std::move(r).error();
  }
  DeflateStream deflater;
  if (deflateInit2(&deflater.z, level, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY) != Z_OK)
    return Error::internal("zlib: out of memory");
  deflater.ready = true;
  if (!from.window.empty() &&
      deflateSetDictionary(&deflater.z, reinterpret_cast<const Bytef*>(from.window.data()),
                           static_cast<uInt>(from.window.size())) != Z_OK)
    return Error::internal("zlib: cannot set the dictionary");
  if (used_bits > 0 && deflatePrime(&deflater.z, used_bits,
                                    static_cast<int>(std::to_integer<unsigned>(shared) &
                                                     ((1u << used_bits) - 1))) != Z_OK)
    return Error::internal("zlib: cannot prime deflate");
  std::uint64_t written = 0;
  const Write counted = [&](std::span<const std::byte> piece) -> Result<void> {
    written += piece.size();
    return write(piece);
  };
  std::vector<std::byte> piece(kPieceBytes);
  std::uint32_t crc = 0;
  for (std::uint64_t left = cut - from.tar_offset; left > 0;) {
    auto got = rest.read(std::span(piece).first(
        static_cast<std::size_t>(std::min<std::uint64_t>(left, piece.size()))));
    if (!got) return std::move(got).error();
    if (*got == 0 || rest.members() != from.member + 1) {
      return Error::bad_input(name + ": cannot splice at tar offset " + std::to_string(cut) +
                              ": the gzip member that holds it ends first");
    }
    const auto decoded = std::span<const std::byte>(piece).first(*got);
    crc = crc32_of(decoded, crc);
    if (auto r = deflate_into(deflater.z, decoded, Z_NO_FLUSH, counted); !r)
      return std::move(r).error();
    left -= *got;
  }
  if (auto r = deflate_into(deflater.z, {}, Z_FINISH, counted); !r) return std::move(r).error();
  const auto member_crc = static_cast<std::uint32_t>(
      crc32_combine(from.crc, crc, static_cast<z_off_t>(cut - from.tar_offset)));
  std::array<std::byte, 8> trailer{};
  store_le(trailer.data(), member_crc, 4);
  store_le(trailer.data() + 4, (cut - from.member_tar_offset) & 0xffffffffu, 4);
  if (auto r = counted(trailer); !r) return std::move(r).error();
  return written;
}

}  // namespace smpack
