#include "member_appender.h"

#include <deque>
#include <future>
#include <thread>

#include "file_io.h"
#include "gzip_codec.h"
#include "index_codec.h"
#include "smpack/digest.h"
#include "tar_header.h"
#include "thread_pool.h"

namespace smpack {
namespace {

struct CompressedChunk {
  Result<std::vector<std::byte>> member = std::vector<std::byte>();
  std::uint64_t tar_bytes = 0;
};

unsigned resolve_threads(unsigned requested) {
  if (requested > 0) return requested;
  return std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

MemberAppender::MemberAppender(Write write, ArchiveIndex& index, const WriteOptions& options)
    : write_(std::move(write)), index_(index), options_(options) {
  for (const auto& m : index_.members) {
    file_offset_ = m.file_offset + m.file_bytes;
    tar_offset_ = m.tar_offset + m.tar_bytes;
  }
  index_.level = options.level;
  index_.chunk_bytes = options.chunk_bytes;
  index_.mtime = options.mtime;
}

Result<void> MemberAppender::emit(std::vector<std::byte> member, std::uint64_t tar_bytes) {
  if (auto r = write_(member); !r) return r;
  index_.members.push_back({file_offset_, member.size(), tar_offset_, tar_bytes});
  file_offset_ += member.size();
  tar_offset_ += tar_bytes;
  return {};
}

void MemberAppender::mark_code_start() {
  index_.code_member = static_cast<std::uint32_t>(index_.members.size());
  code_marked_ = true;
}

Result<void> MemberAppender::append(const std::vector<SourceFile>& sources) {
  const unsigned threads = resolve_threads(options_.threads);
  ThreadPool pool(threads);
  // Chunks in flight: enough to keep every thread busy while the oldest is written.
  const std::size_t window = 2 * threads + 2;
  std::deque<std::future<CompressedChunk>> in_flight;
  const int level = options_.level;

  auto drain_one = [&]() -> Result<void> {
    CompressedChunk done = in_flight.front().get();
    in_flight.pop_front();
    if (!done.member) return std::move(done.member).error();
    return emit(std::move(*done.member), done.tar_bytes);
  };
  auto submit = [&](std::vector<std::byte> chunk) -> Result<void> {
    while (in_flight.size() >= window) {
      if (auto r = drain_one(); !r) return r;
    }
    in_flight.push_back(pool.submit([chunk = std::move(chunk), level] {
      CompressedChunk out;
      out.tar_bytes = chunk.size();
      std::vector<std::byte> member;
      member.reserve(chunk.size() / 2 + 64);
      auto ok = append_gzip_member(chunk, level, member);
      if (!ok) {
        out.member = std::move(ok).error();
      } else {
        out.member = std::move(member);
      }
      return out;
    }));
    return {};
  };
  auto fail = [&](Error e) -> Result<void> {
    for (auto& f : in_flight) f.wait();
    return e;
  };

  std::uint64_t total = 0, done = 0;
  for (const auto& s : sources) total += s.size;
  const std::size_t chunk_bytes = static_cast<std::size_t>(options_.chunk_bytes);
  // Members are counted as they are emitted, so an entry's first member is known
  // from the chunks already submitted.
  std::uint64_t chunks_before = index_.members.size() + in_flight.size();
  std::uint64_t tar_at = tar_offset_;

  for (const auto& source : sources) {
    if (options_.cancel && options_.cancel->cancelled()) return fail(Error::interrupted());
    if (!code_marked_ && is_code_path(source.archive_path)) {
      index_.code_member = static_cast<std::uint32_t>(chunks_before);
      code_marked_ = true;
    }
    IndexedEntry record;
    record.path = source.archive_path;
    record.type = source.type;
    record.mode = source.mode;
    record.size = source.size;
    record.first_member = static_cast<std::uint32_t>(chunks_before);
    record.header_offset = tar_at;

    std::vector<std::byte> chunk =
        make_tar_header(source.archive_path, source.type, source.mode, source.size, options_.mtime);
    record.data_offset = tar_at + chunk.size();
    tar_at += chunk.size() + source.size + tar_padding(source.size);
    if (source.type == EntryType::file) {
      auto file = InputFile::open(source.disk_path);
      if (!file) return fail(std::move(file).error());
      Hasher sha;
      std::uint64_t left = source.size;
      for (;;) {
        std::size_t room = chunk_bytes > chunk.size() ? chunk_bytes - chunk.size() : 0;
        std::size_t want = static_cast<std::size_t>(std::min<std::uint64_t>(room, left));
        std::size_t at = chunk.size();
        chunk.resize(at + want);
        auto got = file->read(std::span(chunk).subspan(at, want));
        if (!got) return fail(std::move(got).error());
        if (*got != want) {
          return fail(Error::bad_input(source.disk_path.string() +
                                       ": the file shrank while being archived"));
        }
        sha.update(std::span<const std::byte>(chunk).subspan(at, want));
        left -= want;
        done += want;
        if (left == 0) break;
        if (auto r = submit(std::move(chunk)); !r) return fail(std::move(r).error());
        ++chunks_before;
        chunk = {};
        if (options_.cancel && options_.cancel->cancelled()) return fail(Error::interrupted());
        if (options_.progress) options_.progress->update(done, total);
      }
      std::byte probe[1];
      auto extra = file->read(probe);
      if (!extra || *extra != 0) {
        return fail(
            Error::bad_input(source.disk_path.string() + ": the file grew while being archived"));
      }
      chunk.resize(chunk.size() + tar_padding(source.size));
      record.sha256 = sha.finish_hex();
    }
    if (auto r = submit(std::move(chunk)); !r) return fail(std::move(r).error());
    ++chunks_before;
    index_.entries.push_back(std::move(record));
    if (options_.progress) options_.progress->update(done, total);
  }
  while (!in_flight.empty()) {
    if (auto r = drain_one(); !r) return fail(std::move(r).error());
  }
  return {};
}

Result<void> MemberAppender::finish() {
  if (!code_marked_) mark_code_start();
  std::vector<std::byte> end_of_archive(2 * kTarBlock);
  std::vector<std::byte> member;
  if (auto r = append_gzip_member(end_of_archive, options_.level, member); !r) return r;
  if (auto r = emit(std::move(member), end_of_archive.size()); !r) return r;
  index_.index_offset = file_offset_;
  auto tail = encode_index(index_);
  if (auto r = write_(tail); !r) return r;
  file_offset_ += tail.size();
  index_.file_bytes = file_offset_;
  return {};
}

}  // namespace smpack
