#include "archive/member_appender.h"

#include <thread>

#include "archive/gzip_codec.h"
#include "archive/index_codec.h"
#include "archive/tar_header.h"
#include "io/file_io.h"
#include "io/thread_pool.h"
#include "smpack/digest.h"

namespace smpack {

struct MemberAppender::Compressed {
  Result<std::vector<std::byte>> member = std::vector<std::byte>();
  std::uint64_t tar_bytes = 0;
};

namespace {

unsigned resolve_threads(unsigned requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

MemberAppender::MemberAppender(Write write, ArchiveIndex& index, const WriteOptions& options)
    : write_(std::move(write)), index_(index), options_(options) {
  const unsigned threads = resolve_threads(options.threads);
  pool_ = std::make_unique<ThreadPool>(threads);
  // Chunks in flight: enough to keep every thread busy while the oldest is written.
  window_ = 2 * threads + 2;
  for (const auto& m : index_.members) {
    file_offset_ = m.file_offset + m.file_bytes;
    tar_offset_ = m.tar_offset + m.tar_bytes;
  }
  tar_submitted_ = tar_offset_;
  members_submitted_ = index_.members.size();
  index_.level = options.level;
  index_.chunk_bytes = options.chunk_bytes;
  index_.mtime = options.mtime;
}

MemberAppender::~MemberAppender() {
  for (auto& f : in_flight_) f.wait();
}

Result<void> MemberAppender::emit(std::vector<std::byte> member, std::uint64_t tar_bytes) {
  if (auto r = write_(member); !r) return r;
  index_.members.push_back({file_offset_, member.size(), tar_offset_, tar_bytes});
  file_offset_ += member.size();
  tar_offset_ += tar_bytes;
  return {};
}

Result<void> MemberAppender::drain(std::size_t keep) {
  while (in_flight_.size() > keep) {
    Compressed done = in_flight_.front().get();
    in_flight_.pop_front();
    if (!done.member) return std::move(done.member).error();
    if (auto r = emit(std::move(*done.member), done.tar_bytes); !r) return r;
  }
  return {};
}

Result<void> MemberAppender::fail(Error error) {
  for (auto& f : in_flight_) f.wait();
  in_flight_.clear();
  return error;
}

Result<void> MemberAppender::submit(std::vector<std::byte> chunk) {
  if (auto r = drain(window_ - 1); !r) return fail(std::move(r).error());
  const int level = options_.level;
  tar_submitted_ += chunk.size();
  ++members_submitted_;
  in_flight_.push_back(pool_->submit([chunk = std::move(chunk), level] {
    Compressed out;
    out.tar_bytes = chunk.size();
    std::vector<std::byte> member;
    member.reserve(chunk.size() / 2 + 64);
    if (auto ok = append_gzip_member(chunk, level, member); !ok) {
      out.member = std::move(ok).error();
    } else {
      out.member = std::move(member);
    }
    return out;
  }));
  return {};
}

Result<void> MemberAppender::append(const MemberSpec& spec, const ContentReader& content) {
  if (options_.cancel && options_.cancel->cancelled()) return fail(Error::interrupted());
  if (!code_marked_ && is_code_path(spec.archive_path)) {
    index_.code_member = static_cast<std::uint32_t>(members_submitted_);
    code_marked_ = true;
  }
  IndexedEntry record;
  record.path = spec.archive_path;
  record.type = spec.type;
  record.mode = spec.mode;
  record.size = spec.size;
  record.first_member = static_cast<std::uint32_t>(members_submitted_);
  record.header_offset = tar_submitted_;

  std::vector<std::byte> chunk =
      make_tar_header(spec.archive_path, spec.type, spec.mode, spec.size, options_.mtime);
  record.data_offset = tar_submitted_ + chunk.size();
  const std::size_t chunk_bytes = static_cast<std::size_t>(options_.chunk_bytes);
  if (spec.type == EntryType::file) {
    Hasher sha;
    std::uint64_t left = spec.size;
    for (;;) {
      std::size_t room = chunk_bytes > chunk.size() ? chunk_bytes - chunk.size() : 0;
      std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, left));
      std::size_t at = chunk.size();
      chunk.resize(at + want);
      std::size_t filled = 0;
      while (filled < want) {
        auto got = content(std::span(chunk).subspan(at + filled, want - filled));
        if (!got) return fail(std::move(got).error());
        if (*got == 0) return fail(Error::bad_input(spec.origin + ": shrank while being archived"));
        filled += *got;
      }
      sha.update(std::span<const std::byte>(chunk).subspan(at, want));
      left -= want;
      progress_done_ += want;
      if (options_.progress)
        options_.progress->update(progress_done_, std::max(progress_done_, progress_total_));
      if (left == 0) break;
      if (auto r = submit(std::move(chunk)); !r) return r;
      chunk = {};
      if (options_.cancel && options_.cancel->cancelled()) return fail(Error::interrupted());
    }
    std::byte probe[1];
    auto extra = content(probe);
    if (!extra) return fail(std::move(extra).error());
    if (*extra != 0) return fail(Error::bad_input(spec.origin + ": grew while being archived"));
    chunk.resize(chunk.size() + tar_padding(spec.size));
    record.sha256 = sha.finish_hex();
  }
  if (auto r = submit(std::move(chunk)); !r) return r;
  index_.entries.push_back(std::move(record));
  return {};
}

Result<void> MemberAppender::append(const std::vector<SourceFile>& sources) {
  for (const auto& s : sources) progress_total_ += s.size;
  for (const auto& source : sources) {
    MemberSpec spec{source.archive_path, source.type, source.mode, source.size,
                    source.disk_path.string()};
    if (source.type != EntryType::file) {
      if (auto r = append(
              spec, [](std::span<std::byte>) -> Result<std::size_t> { return std::size_t{0}; });
          !r)
        return r;
      continue;
    }
    auto file = InputFile::open(source.disk_path);
    if (!file) return fail(std::move(file).error());
    if (auto r = append(spec, [&](std::span<std::byte> out) { return file->read(out); }); !r)
      return r;
  }
  return {};
}

Result<void> MemberAppender::finish() {
  if (auto r = drain(0); !r) return fail(std::move(r).error());
  if (!code_marked_) {
    index_.code_member = static_cast<std::uint32_t>(index_.members.size());
    code_marked_ = true;
  }
  std::vector<std::byte> end_of_archive(2 * kTarBlock);
  std::vector<std::byte> member;
  if (auto r = append_gzip_member(end_of_archive, options_.level, member); !r) return r;
  if (auto r = emit(std::move(member), end_of_archive.size()); !r) return r;
  index_.index_offset = file_offset_;
  auto tail = encode_index(index_);
  if (auto r = write_(tail.bytes); !r) return r;
  file_offset_ += tail.bytes.size();
  index_.index_gzip_members = tail.gzip_members;
  index_.file_bytes = file_offset_;
  return {};
}

}  // namespace smpack
