#include "smpack/archive_reader.h"

#include <archive.h>
#include <archive_entry.h>

#include <algorithm>
#include <cerrno>
#include <limits>
#include <optional>
#include <thread>
#include <vector>

#include "archive/gzip_decode_ahead.h"
#include "archive/gzip_decoder.h"
#include "archive/gzip_inline_stream.h"
#include "archive/parallel_gzip_inflate.h"
#include "archive/tar_stream_guard.h"
#include "io/file_io.h"

namespace smpack {
namespace {

constexpr std::size_t kDecodeBlockBytes = 1 << 20;
// Blocks a decoding thread may run ahead of the tar parser: enough to ride out a
// member whose data the reader hashes or copies while the next is inflated.
constexpr std::size_t kBlocksAhead = 4;

// One decoding thread per core, up to 16 (the ratio of inflate to parsing leaves
// little for more), and none where there is one core.
ParallelGzipInflate::Options parallel_inflate_options() {
  ParallelGzipInflate::Options options;
  options.threads = std::clamp(std::thread::hardware_concurrency(), 1u, 16u);
  if (options.threads < 2) options.threads = 0;
  return options;
}

struct ArchiveDeleter {
  void operator()(archive* a) const { archive_read_free(a); }
};

EntryType entry_type_of(archive_entry* e) {
  if (archive_entry_hardlink(e) != nullptr) return EntryType::hardlink;
  switch (archive_entry_filetype(e)) {
    case AE_IFREG:
      return EntryType::file;
    case AE_IFDIR:
      return EntryType::directory;
    case AE_IFLNK:
      return EntryType::symlink;
    case AE_IFCHR:
      return EntryType::char_device;
    case AE_IFBLK:
      return EntryType::block_device;
    case AE_IFIFO:
      return EntryType::fifo;
    case AE_IFSOCK:
      return EntryType::socket;
    default:
      return EntryType::other;
  }
}

std::string or_empty(const char* s) {
  return s ? std::string(s) : std::string();
}

}  // namespace

struct ArchiveReader::Impl {
  std::string name;
  ReadLimits limits;
  ContainerKind kind = ContainerKind::unknown;

  std::unique_ptr<ByteSource> owned;  // open_file and open_memory own their source
  const ByteSource* source = nullptr;
  std::function<Result<std::size_t>(std::span<std::byte>)> pull;  // open_tar_stream
  ArchiveReader::GzipObservers observers;
  std::uint64_t raw_consumed = 0;

  // A gzip stream is inflated on threads of their own: a whole local file by several at
  // once, a stream by one. When block boundaries are observed, a stream is decoded in
  // line instead, and they are reported with the decoder's state at that point.
  std::unique_ptr<DecodedBlockStream> gzip;
  std::optional<TarStreamGuard> guard;  // gzip and plain tar: the bytes libarchive parses
  std::vector<std::byte> block;         // plain tar: sized on first use
  std::uint64_t tar_bytes = 0;

  std::unique_ptr<archive, ArchiveDeleter> handle;
  std::optional<Error> pending;  // set by callbacks, reported instead of libarchive's text
  bool capped = false;           // a size or ratio cap was reached
  bool observing = true;         // false once the tar reading failed: see observe_gated()
  Entry current;
  std::uint64_t entries = 0;
  std::uint64_t declared_total = 0;
  bool finished = false;

  Result<std::size_t> raw_read(std::span<std::byte> out) {
    if (pull) {
      auto got = pull(out);
      if (got) raw_consumed += *got;
      return got;
    }
    const auto got = static_cast<std::size_t>(
        std::min<std::uint64_t>(out.size(), source->size() - raw_consumed));
    if (auto r = source->read_at(raw_consumed, out.first(got)); !r) return std::move(r).error();
    raw_consumed += got;
    return got;
  }

  std::uint64_t compressed() const { return gzip ? gzip->compressed_offset() : raw_consumed; }

  // The next piece of the tar stream (empty at its end), valid until the next call.
  Result<std::span<const std::byte>> next_tar_bytes() {
    if (gzip) return gzip->next();
    if (block.empty()) block.resize(kDecodeBlockBytes);
    auto got = raw_read(block);
    if (!got) return std::move(got).error();
    return std::span<const std::byte>(block.data(), *got);
  }

  // Holds every decoded byte to the size and ratio caps, in the tar and after its end.
  Result<void> count_decoded(std::size_t bytes) {
    tar_bytes += bytes;
    if (tar_bytes > limits.max_total_bytes) {
      capped = true;
      return Error::bad_input(name + ": more than " + std::to_string(limits.max_total_bytes) +
                              " bytes uncompressed (the total size cap)");
    }
    if (tar_bytes > limits.ratio_floor_bytes &&
        static_cast<double>(tar_bytes) > limits.max_ratio * static_cast<double>(compressed())) {
      capped = true;
      return Error::bad_input(
          name + ": expands more than " + std::to_string(static_cast<long>(limits.max_ratio)) +
          ":1 (the compression ratio cap; a decompression bomb?) near member '" + current.path +
          "'");
    }
    return {};
  }

  Result<std::span<const std::byte>> produce_block() {
    auto got = next_tar_bytes();
    if (!got) return got;
    if (guard) {
      if (auto r = guard->feed(*got); !r) return std::move(r).error();
    }
    if (auto r = count_decoded(got->size()); !r) return std::move(r).error();
    return got;
  }

  static la_ssize_t read_callback(archive*, void* self, const void** out) {
    auto* impl = static_cast<Impl*>(self);
    auto got = impl->produce_block();
    if (!got) {
      impl->pending = std::move(got).error();
      archive_set_error(impl->handle.get(), EIO, "%s", impl->pending->message.c_str());
      return ARCHIVE_FATAL;
    }
    *out = got->data();
    return static_cast<la_ssize_t>(got->size());
  }

  Error archive_error(std::string_view during) {
    // The guard's verdicts (archive-ambiguous) and the caps stand as they are.
    if (pending) return *pending;
    const char* text = archive_error_string(handle.get());
    std::string where = current.path.empty()
                            ? std::string(during)
                            : std::string(during) + " after member '" + current.path + "'";
    return blamed_on_the_stream(
        Error::bad_input(name + ": " + where + ": " + (text ? text : "unreadable tar data")));
  }

  // Damage to a gzip stream often inflates without a deflate error, into bytes that
  // break the tar first (a stored block, or codes that fall back into step). The CRC
  // at the member's end then names the cause, as gzip -t does: up to
  // limits.max_bytes_after_tar_error more are decoded, and a stream that fails in them
  // takes the blame. A read that fails (io) or a cap leaves the tar error standing.
  Error blamed_on_the_stream(Error tar_error) {
    if (!gzip) return tar_error;
    observing = false;
    auto r = drain(limits.max_bytes_after_tar_error);
    if (!r && !capped && r.error().kind == ErrorKind::bad_input) return std::move(r).error();
    return tar_error;
  }

  // The gzip observers see what the tar reading saw, not what blamed_on_the_stream
  // decodes after it failed (the splice scan would keep a window per boundary).
  void observe_gated() {
    if (observers.member) {
      observers.member = [this, inner = std::move(observers.member)](const GzipMemberInfo& m) {
        if (observing) inner(m);
      };
    }
    if (observers.boundary) {
      observers.boundary = [this, inner = std::move(observers.boundary)](
                               const DeflateBoundary& at,
                               const std::function<std::vector<std::byte>()>& fetch_window) {
        if (observing) inner(at, fetch_window);
      };
    }
  }

  Result<void> open_libarchive() {
    handle.reset(archive_read_new());
    if (!handle) return Error::internal("libarchive: out of memory");
    archive_read_support_format_tar(handle.get());
    archive_read_support_format_gnutar(handle.get());
    if (kind == ContainerKind::gzip || kind == ContainerKind::plain_tar) {
      archive_read_support_filter_none(handle.get());
    } else {
      archive_read_support_filter_xz(handle.get());
      archive_read_support_filter_zstd(handle.get());
      archive_read_support_filter_bzip2(handle.get());
    }
    if (archive_read_open(handle.get(), this, nullptr, &Impl::read_callback, nullptr) !=
        ARCHIVE_OK) {
      return archive_error("cannot read the tar stream");
    }
    return {};
  }

  // After the last tar member (or a tar error): decode what is left, up to `budget`
  // bytes, so a bad CRC in the final member or bytes after it are reported, not
  // silently ignored.
  Result<void> drain(std::uint64_t budget = std::numeric_limits<std::uint64_t>::max()) {
    if (!gzip) return {};
    for (std::uint64_t decoded = 0; decoded <= budget;) {
      auto got = next_tar_bytes();
      if (!got) return std::move(got).error();
      if (got->empty()) return {};
      decoded += got->size();
      if (auto r = count_decoded(got->size()); !r) return r;
    }
    return {};
  }

  Result<void> start(std::span<const std::byte> head) {
    kind = sniff_container(head);
    switch (kind) {
      case ContainerKind::gzip: {
        observe_gated();
        if (source != nullptr) {
          // The source is read at random from the decoding threads; raw_read is unused.
          gzip = ParallelGzipInflate::start(*source, name, observers.member, observers.boundary,
                                            parallel_inflate_options());
        }
        if (!gzip) {
          GzipDecoder decoder([this](std::span<std::byte> out) { return raw_read(out); }, name);
          if (observers.boundary) {
            decoder.set_member_observer(std::move(observers.member));
            decoder.set_boundary_observer(std::move(observers.boundary));
            gzip = std::make_unique<GzipInlineStream>(std::move(decoder), kDecodeBlockBytes);
          } else {
            // raw_read and the source run on the decoding thread from here on.
            gzip = std::make_unique<GzipDecodeAhead>(
                std::move(decoder), std::move(observers.member), kDecodeBlockBytes, kBlocksAhead);
          }
        }
        guard.emplace(name, limits.max_pax_bytes);
      } break;
      case ContainerKind::plain_tar:
        guard.emplace(name, limits.max_pax_bytes);
        break;
      case ContainerKind::xz:
      case ContainerKind::zstd:
      case ContainerKind::bzip2:
        break;
      case ContainerKind::empty:
        return Error::bad_input(name + ": the file is empty");
      case ContainerKind::zip:
      case ContainerKind::unknown:
        return Error::bad_input(name + " is " + std::string(describe(kind)) +
                                ", not a tar archive (SageMaker needs a gzip-compressed tar)");
    }
    return open_libarchive();
  }

  Result<const Entry*> next() {
    if (finished) return static_cast<const Entry*>(nullptr);
    archive_entry* e = nullptr;
    int rc = archive_read_next_header(handle.get(), &e);
    if (rc == ARCHIVE_EOF) {
      finished = true;
      if (auto r = drain(); !r) return std::move(r).error();
      return static_cast<const Entry*>(nullptr);
    }
    // ARCHIVE_RETRY is a header libarchive skipped: readers recover from it differently.
    if (rc != ARCHIVE_OK && rc != ARCHIVE_WARN) return archive_error("cannot read a member header");
    if (++entries > limits.max_entries) {
      return Error::bad_input(name + ": more than " + std::to_string(limits.max_entries) +
                              " members (the entry count cap)");
    }
    Entry entry;
    entry.path = or_empty(archive_entry_pathname(e));
    entry.type = entry_type_of(e);
    entry.mode = static_cast<std::uint32_t>(archive_entry_perm(e));
    entry.size =
        archive_entry_size_is_set(e) ? static_cast<std::uint64_t>(archive_entry_size(e)) : 0;
    entry.mtime = archive_entry_mtime(e);
    entry.link_target = entry.type == EntryType::hardlink ? or_empty(archive_entry_hardlink(e))
                                                          : or_empty(archive_entry_symlink(e));
    entry.uid = archive_entry_uid(e);
    entry.gid = archive_entry_gid(e);
    entry.uname = or_empty(archive_entry_uname(e));
    entry.gname = or_empty(archive_entry_gname(e));
    entry.sparse = archive_entry_sparse_count(e) > 0;
    if (rc == ARCHIVE_WARN) {
      // A name in UTF-8 that the C locale cannot show is not a parsing question.
      const std::string text = or_empty(archive_error_string(handle.get()));
      if (text.find("can't be converted") == std::string::npos)
        entry.reader_warning = text.empty() ? "a warning without text" : text;
    }
    entry.header_offset = static_cast<std::uint64_t>(archive_read_header_position(handle.get()));
    entry.data_offset = static_cast<std::uint64_t>(archive_filter_bytes(handle.get(), 0));
    if (entry.path.size() > limits.max_name_bytes ||
        entry.link_target.size() > limits.max_name_bytes) {
      return Error::bad_input(name + ": member " + std::to_string(entries) +
                              " has a name of more than " + std::to_string(limits.max_name_bytes) +
                              " bytes (the name length cap)");
    }
    if (entry.size > limits.max_entry_bytes) {
      return Error::bad_input(
          name + ": member '" + entry.path + "' declares " + std::to_string(entry.size) +
          " bytes, more than the per-member cap of " + std::to_string(limits.max_entry_bytes));
    }
    declared_total += entry.size;
    if (declared_total > limits.max_total_bytes) {
      return Error::bad_input(name + ": members declare more than " +
                              std::to_string(limits.max_total_bytes) +
                              " bytes in all (the total size cap)");
    }
    current = std::move(entry);
    return &current;
  }

  Result<std::size_t> read(std::span<std::byte> out) {
    la_ssize_t got = archive_read_data(handle.get(), out.data(), out.size());
    if (got < 0) return archive_error("cannot read member data");
    return static_cast<std::size_t>(got);
  }
};

ArchiveReader::ArchiveReader(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ArchiveReader::ArchiveReader(ArchiveReader&&) noexcept = default;
ArchiveReader& ArchiveReader::operator=(ArchiveReader&&) noexcept = default;
ArchiveReader::~ArchiveReader() = default;

Result<ArchiveReader> ArchiveReader::open_file(const std::filesystem::path& path,
                                               const ReadLimits& limits) {
  auto file = FileByteSource::open(path);
  if (!file) return std::move(file).error();
  return open_owned(std::make_unique<FileByteSource>(std::move(*file)), path.string(), limits);
}

Result<ArchiveReader> ArchiveReader::open_memory(std::span<const std::byte> bytes,
                                                 std::string display_name,
                                                 const ReadLimits& limits) {
  return open_owned(std::make_unique<MemoryByteSource>(bytes), std::move(display_name), limits);
}

Result<ArchiveReader> ArchiveReader::open_owned(std::unique_ptr<ByteSource> source,
                                                std::string display_name,
                                                const ReadLimits& limits) {
  const ByteSource& bytes = *source;
  auto reader = open_source(bytes, std::move(display_name), limits);
  if (reader) reader->impl_->owned = std::move(source);
  return reader;
}

Result<ArchiveReader> ArchiveReader::open_source(const ByteSource& source, std::string display_name,
                                                 const ReadLimits& limits) {
  return open_source_observed(source, std::move(display_name), limits, {});
}

Result<ArchiveReader> ArchiveReader::open_tar_stream(
    std::function<Result<std::size_t>(std::span<std::byte>)> pull, std::string display_name,
    const ReadLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(display_name);
  impl->limits = limits;
  impl->pull = std::move(pull);
  impl->kind = ContainerKind::plain_tar;
  impl->guard.emplace(impl->name, limits.max_pax_bytes);
  if (auto r = impl->open_libarchive(); !r) return std::move(r).error();
  return ArchiveReader(std::move(impl));
}

Result<ArchiveReader> ArchiveReader::open_source_observed(const ByteSource& source,
                                                          std::string display_name,
                                                          const ReadLimits& limits,
                                                          GzipObservers observers) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(display_name);
  impl->limits = limits;
  impl->source = &source;
  impl->observers = std::move(observers);
  std::vector<std::byte> head(std::min<std::uint64_t>(kSniffBytes, source.size()));
  if (auto r = source.read_at(0, head); !r) return std::move(r).error();
  if (auto r = impl->start(head); !r) return std::move(r).error();
  return ArchiveReader(std::move(impl));
}

Result<const Entry*> ArchiveReader::next() {
  return impl_->next();
}
Result<std::size_t> ArchiveReader::read(std::span<std::byte> out) {
  return impl_->read(out);
}

Result<std::string> ArchiveReader::read_all(std::uint64_t max_bytes) {
  if (impl_->current.size > max_bytes) {
    return Error::bad_input(impl_->name + ": member '" + impl_->current.path + "' is " +
                            std::to_string(impl_->current.size) + " bytes, more than the " +
                            std::to_string(max_bytes) + " this operation reads into memory");
  }
  std::string data(static_cast<std::size_t>(impl_->current.size), '\0');
  std::size_t filled = 0;
  while (filled < data.size()) {
    auto got = read(std::as_writable_bytes(std::span(data)).subspan(filled));
    if (!got) return std::move(got).error();
    if (*got == 0) break;
    filled += *got;
  }
  if (filled != data.size()) {
    return Error::bad_input(impl_->name + ": member '" + impl_->current.path + "' is truncated");
  }
  return data;
}

ContainerKind ArchiveReader::container() const {
  return impl_->kind;
}
const GzipHeaderInfo& ArchiveReader::gzip_header() const {
  static const GzipHeaderInfo kNone;
  return impl_->gzip ? impl_->gzip->first_header() : kNone;
}
std::string ArchiveReader::tar_format() const {
  const char* name = impl_->entries ? archive_format_name(impl_->handle.get()) : nullptr;
  return name ? name : "";
}
std::uint64_t ArchiveReader::gzip_members() const {
  return impl_->gzip ? impl_->gzip->members() : 0;
}
std::uint64_t ArchiveReader::compressed_bytes() const {
  return impl_->compressed();
}
std::uint64_t ArchiveReader::uncompressed_bytes() const {
  return impl_->tar_bytes;
}
const std::string& ArchiveReader::display_name() const {
  return impl_->name;
}

}  // namespace smpack
