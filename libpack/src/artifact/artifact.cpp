#include "smpack/artifact.h"

#include <algorithm>
#include <optional>

#include "archive/index_codec.h"
#include "archive/indexed_member.h"
#include "archive/parallel_tar_source.h"
#include "artifact/directory_walk.h"
#include "artifact/writer_evidence.h"
#include "io/file_io.h"
#include "io/thread_pool.h"
#include "s3/s3_object_source.h"
#include "smpack/archive_reader.h"
#include "smpack/archive_writer.h"
#include "smpack/digest.h"

namespace smpack {
namespace fs = std::filesystem;

struct Artifact::Impl {
  std::string name;
  ArtifactKind kind = ArtifactKind::directory;
  ReadLimits limits;
  fs::path directory;          // directories
  std::optional<S3Client> s3;  // S3 prefixes
  S3Url prefix;
  std::vector<S3Object> objects;      // the prefix's listing, in key order
  std::unique_ptr<ByteSource> bytes;  // archives
  std::optional<ArchiveIndex> index;  // smpack archives
  // Workers that decode an indexed member's gzip members side by side; made on first use
  // and kept, so that reading many members does not start threads for each.
  mutable std::unique_ptr<ThreadPool> pool;

  // The tree a visit fills: named, of this kind, saying whether weights were looked at.
  ModelTree empty_tree(const VisitOptions& options) const {
    ModelTree tree;
    tree.display_name = name;
    tree.source = kind;
    tree.weights_scanned = options.weights.has_value();
    return tree;
  }

  ThreadPool& workers() const {
    if (!pool)
      pool = std::make_unique<ThreadPool>(std::max(1u, std::thread::hardware_concurrency()));
    return *pool;
  }

  // A directory's or S3 prefix's members, and one of its files.
  Result<std::vector<Member>> layout_members(const CancelToken* cancel) const;
  Result<std::unique_ptr<ByteSource>> open_layout_file(std::string_view relative) const;
  Result<ModelTree> visit_layout(const VisitOptions& options) const;
  Result<ModelTree> visit_index(const VisitOptions& options) const;
  // Parses `tar_stream` when given (an smpack archive's, decoded side by side), else
  // the archive's own bytes.
  Result<ModelTree> visit_stream(const VisitOptions& options,
                                 const ParallelTarSource* tar_stream = nullptr) const;
  Result<const IndexedEntry*> indexed_file(std::string_view normalized) const;
  bool in_foreign_prefix(const IndexedEntry& entry) const {
    return entry.first_member < index->foreign_members;
  }
  Result<void> stream_streamed(std::string_view wanted, const ByteSink& sink,
                               const CancelToken* cancel) const;
};

namespace {

bool cancelled(const CancelToken* cancel) {
  return cancel && cancel->cancelled();
}

// The member a caller named, as a normalised path; usage error when the name itself is unsafe.
Result<std::string> wanted_member(std::string_view member_path) {
  auto wanted = check_member_path(member_path);
  if (wanted.problem != PathProblem::none) {
    return Error::usage("'" + std::string(member_path) +
                        "': " + std::string(describe(wanted.problem)));
  }
  return std::move(wanted.normalized);
}

Error no_such_member(std::string_view artifact, std::string_view normalized) {
  return Error::bad_input(std::string(artifact) + ": no file member '" + std::string(normalized) +
                          "'");
}

bool keeps(const VisitOptions& options, const Member& member) {
  return member.type == EntryType::file && options.keep_content &&
         member.size <= options.max_content_bytes && options.keep_content(member.path, member.size);
}

// Compares what streaming saw with what the index claims, member by member.
void check_against_index(const ByteSource& bytes, const ArchiveIndex& index,
                         const std::vector<GzipMemberInfo>& members, ModelTree& tree) {
  auto& problems = tree.archive->index_problems;
  auto problem = [&](std::string text) { problems.push_back(std::move(text)); };
  const std::size_t content_members = index.members.size();
  if (members.size() < content_members) {
    problem("the archive has " + std::to_string(members.size()) +
            " gzip members, the index lists " + std::to_string(content_members));
  }
  for (std::size_t i = 0; i < members.size() && i < content_members; ++i) {
    const auto& seen = members[i];
    if (i >= index.foreign_members && seen.fixed_header != kSmpackMemberHeader) {
      problem("gzip member " + std::to_string(i) + " at offset " +
              std::to_string(seen.file_offset) + " does not have smpack's fixed header");
    }
    const auto& listed = index.members[i];
    if (seen.file_offset != listed.file_offset || seen.file_bytes != listed.file_bytes ||
        seen.decoded_bytes != listed.tar_bytes) {
      problem("gzip member " + std::to_string(i) + " does not match the index");
    }
  }
  // The index and trailer must be exactly what smpack would write for this index.
  const std::vector<std::byte> expected = encode_index(index).bytes;
  std::vector<std::byte> stored(bytes.size() - std::min(bytes.size(), index.index_offset));
  if (stored.size() != expected.size() || !bytes.read_at(index.index_offset, stored) ||
      stored != expected) {
    problem("the index members are not byte-for-byte what the index encodes (damaged)");
  }
  // A kept foreign prefix may hold the root member ("./"), which the index leaves out.
  std::vector<const Member*> listable;
  for (const Member& m : tree.members) {
    if (index.foreign_members == 0 || m.path_problem != PathProblem::root_member)
      listable.push_back(&m);
  }
  if (listable.size() != index.entries.size()) {
    problem("the tar stream has " + std::to_string(listable.size()) + " members, the index lists " +
            std::to_string(index.entries.size()));
  }
  for (std::size_t i = 0; i < std::min(listable.size(), index.entries.size()); ++i) {
    const auto& listed = index.entries[i];
    const auto& seen = *listable[i];
    if (seen.path != listed.path || seen.size != listed.size || seen.mode != listed.mode ||
        seen.type != listed.type ||
        (listed.type == EntryType::file && seen.sha256 != listed.sha256)) {
      problem("member '" + listed.path + "' does not match the index");
    }
  }
}

std::uint64_t foreign_prefix_bytes(const ArchiveIndex& index) {
  if (index.foreign_members == 0) return 0;
  const GzipMemberSpan& last = index.members[index.foreign_members - 1];
  return last.file_offset + last.file_bytes;
}

// smpack's index members without a readable trailer: the trailer is damaged.
void check_orphan_index(const std::vector<GzipMemberInfo>& members, ModelTree& tree) {
  for (const auto& m : members) {
    if (m.decoded_bytes == 0 && m.fixed_header == kSmpackIndexMemberHeader) {
      tree.archive->index_problems.push_back(
          "empty gzip members with smpack index fields at offset " + std::to_string(m.file_offset) +
          " but no valid index trailer at the end (damaged)");
      return;
    }
  }
}

// A member of a streamed archive, read into memory for random access.
class OwnedBytes final : public ByteSource {
 public:
  explicit OwnedBytes(std::string data) : data_(std::move(data)), view_(data_) {}
  std::uint64_t size() const override { return view_.size(); }
  std::uint64_t held_from(std::uint64_t offset) const override { return view_.held_from(offset); }
  Result<void> read_at(std::uint64_t offset, std::span<std::byte> out) const override {
    return view_.read_at(offset, out);
  }

 private:
  std::string data_;
  MemoryByteSource view_;
};

}  // namespace

Result<std::vector<Member>> Artifact::Impl::layout_members(const CancelToken* cancel) const {
  if (kind == ArtifactKind::directory) {
    return walk_directory(directory, limits.max_entries, cancel);
  }
  // Each key minus the prefix becomes a path under /opt/ml/model. A key ending in '/'
  // (or the prefix itself) is a console's 0-byte "folder" object: listed as a
  // directory under its stored name, for the prefix rules to judge.
  std::vector<Member> members;
  for (const S3Object& object : objects) {
    Member member;
    member.stored_path = object.key.substr(prefix.key.size());
    const bool folder = member.stored_path.empty() || member.stored_path.back() == '/';
    auto path = check_member_path(member.stored_path, limits.max_name_bytes);
    member.path = std::move(path.normalized);
    member.path_problem = folder ? PathProblem::none : path.problem;
    member.type = folder ? EntryType::directory : EntryType::file;
    member.mode = folder ? 0755 : 0644;
    member.size = object.size;
    members.push_back(std::move(member));
  }
  std::stable_sort(members.begin(), members.end(), [](const Member& a, const Member& b) {
    return canonical_order(a.path, b.path);
  });
  return members;
}

Result<std::unique_ptr<ByteSource>> Artifact::Impl::open_layout_file(
    std::string_view relative) const {
  if (kind == ArtifactKind::s3_prefix)
    return s3->open_object(S3Url{prefix.bucket, prefix.key + std::string(relative)});
  auto file = FileByteSource::open(directory / relative);
  if (!file) return std::move(file).error();
  return std::unique_ptr<ByteSource>(std::make_unique<FileByteSource>(std::move(*file)));
}

Result<ModelTree> Artifact::Impl::visit_layout(const VisitOptions& options) const {
  ModelTree tree = empty_tree(options);
  std::optional<ArtifactWeightScan> weight_scan;
  if (options.weights) weight_scan.emplace(*options.weights);
  auto members = layout_members(options.cancel);
  if (!members) return std::move(members).error();
  for (auto& member : *members) {
    if (member.type == EntryType::file && member.path_problem == PathProblem::none) {
      const bool keep = keeps(options, member);
      if (keep || options.hash_members || options.weights) {
        auto source = open_layout_file(member.stored_path);
        if (!source) return std::move(source).error();
        if (keep || options.hash_members) {
          Hasher sha;
          std::string kept;
          auto read = stream_all(
              **source,
              [&](std::span<const std::byte> piece) -> Result<void> {
                sha.update(piece);
                if (keep) kept.append(reinterpret_cast<const char*>(piece.data()), piece.size());
                return {};
              },
              options.cancel);
          if (!read) return std::move(read).error();
          member.sha256 = sha.finish_hex();
          if (keep) tree.contents[member.path] = std::move(kept);
        }
        if (options.weights) {
          if (auto r =
                  inventory_weight_file(member.path, **source, weight_scan->limits(), tree.weights);
              !r)
            return std::move(r).error();
        }
      }
    }
    tree.members.push_back(std::move(member));
  }
  return tree;
}

Result<ModelTree> Artifact::Impl::visit_index(const VisitOptions& options) const {
  ModelTree tree = empty_tree(options);
  std::optional<ArtifactWeightScan> weight_scan;
  if (options.weights) weight_scan.emplace(*options.weights);
  ArchiveFacts facts;
  facts.container = ContainerKind::gzip;
  facts.tar_format = "POSIX ustar/pax";
  facts.file_bytes = index->file_bytes;
  facts.tar_bytes = index->members.back().tar_offset + index->members.back().tar_bytes;
  facts.gzip_members = index->members.size() + index->index_gzip_members;
  facts.index_version = index->version;
  facts.foreign_prefix_bytes = foreign_prefix_bytes(*index);
  identify_writer(facts, "");
  tree.archive = std::move(facts);
  for (const IndexedEntry& e : index->entries) {
    if (cancelled(options.cancel)) return Error::interrupted();
    Member member;
    member.path = member.stored_path = e.path;
    if (e.type == EntryType::directory) member.stored_path += '/';  // as the tar header has it
    member.type = e.type;
    member.mode = e.mode;
    member.size = e.size;
    member.sha256 = e.sha256;
    // Random access: a damaged member does not hide the ones after it (keep_partial).
    auto read = [&]() -> Result<void> {
      if (keeps(options, member)) {
        auto data =
            read_indexed_entry(*bytes, name, *index, e, workers(), options.max_content_bytes);
        if (!data) return std::move(data).error();
        tree.contents[e.path] = std::move(*data);
      }
      if (e.type == EntryType::file && options.weights) {
        IndexedEntryByteSource source(*bytes, name, *index, e);
        return inventory_weight_file(e.path, source, weight_scan->limits(), tree.weights);
      }
      return {};
    }();
    if (!read) {
      if (!options.keep_partial || read.error().kind != ErrorKind::bad_input)
        return std::move(read).error();
      if (!tree.read_error) {
        tree.read_error_ambiguous = read.error().ambiguous;
        tree.read_error = std::move(read).error().message;
      }
    }
    tree.members.push_back(std::move(member));
  }
  return tree;
}

Result<ModelTree> Artifact::Impl::visit_stream(const VisitOptions& options,
                                               const ParallelTarSource* tar_stream) const {
  ModelTree tree = empty_tree(options);
  const ByteSource& source = tar_stream ? static_cast<const ByteSource&>(*tar_stream) : *bytes;
  std::vector<GzipMemberInfo> gzip_members;
  ArchiveReader::GzipObservers observers;
  if (options.watch) observers = options.watch->gzip;
  if (options.check_index) {
    observers.member = [&, watched = std::move(observers.member)](const GzipMemberInfo& m) {
      gzip_members.push_back(m);
      if (watched) watched(m);
    };
  }
  auto reader = ArchiveReader::open_source_observed(source, name, limits, std::move(observers));
  if (!reader) return std::move(reader).error();
  // Comparing with the index needs every member's SHA-256.
  const bool hash_all = options.hash_members || (options.check_index && index);
  std::vector<std::byte> buffer(1 << 20);
  Hasher sha;
  std::optional<ArtifactWeightScan> weight_scan;
  std::optional<StreamedWeightCollector> weights;
  if (options.weights) {
    weight_scan.emplace(*options.weights);
    weights.emplace(weight_scan->options());
  }
  // Every member to the end; an error stops it, with the members before it read.
  auto read_members = [&]() -> Result<void> {
    for (;;) {
      if (cancelled(options.cancel)) return Error::interrupted();
      auto next = reader->next();
      if (!next) return std::move(next).error();
      if (!*next) return {};
      const Entry& entry = **next;
      Member member;
      auto path = check_member_path(entry.path, limits.max_name_bytes);
      member.path = std::move(path.normalized);
      member.path_problem = path.problem;
      member.stored_path = entry.path;
      member.type = entry.type;
      member.mode = entry.mode;
      member.size = entry.size;
      member.link_target = entry.link_target;
      member.reader_warning = entry.reader_warning;
      const bool is_file = member.type == EntryType::file;
      const bool keep = keeps(options, member);
      std::string kept;
      if (is_file && weights) weights->begin(member.path, member.size);
      // Kept members are hashed always (the tree reports their SHA-256); a member read
      // only for the weight inventory is hashed only when hashing was asked for.
      bool watched_hash = false;
      if (options.watch && options.watch->wants_sha256) {
        auto wanted = options.watch->wants_sha256(entry);
        if (!wanted) return std::move(wanted).error();
        watched_hash = *wanted;
      }
      const bool hash = is_file && (hash_all || keep || watched_hash);
      if (is_file && (hash || (weights && weights->wants_data()))) {
        for (;;) {
          if (!hash && !weights->wants_data()) break;  // the rest is skipped by next()
          auto got = reader->read(buffer);
          if (!got) return std::move(got).error();
          if (*got == 0) break;
          const std::span<const std::byte> piece(buffer.data(), *got);
          if (hash) sha.update(piece);
          if (keep) kept.append(reinterpret_cast<const char*>(piece.data()), piece.size());
          if (weights) weights->feed(piece);
          if (options.progress) {
            options.progress->update(
                tar_stream ? tar_stream->archive_bytes_read() : reader->compressed_bytes(),
                bytes->size());
          }
          if (cancelled(options.cancel)) return Error::interrupted();
        }
        if (hash) member.sha256 = sha.finish_hex();
      }
      if (is_file && weights) {
        if (auto r = weights->end(); !r) return std::move(r).error();
      }
      if (keep) tree.contents[member.path] = std::move(kept);
      if (options.watch && options.watch->member) options.watch->member(entry, member);
      tree.members.push_back(std::move(member));
    }
  };
  if (auto read = read_members(); !read) {
    if (!options.keep_partial || read.error().kind != ErrorKind::bad_input)
      return std::move(read).error();
    tree.read_error_ambiguous = read.error().ambiguous;
    tree.read_error = std::move(read).error().message;
  }
  if (weights) tree.weights = weights->take_reports();
  ArchiveFacts facts;
  facts.container = tar_stream ? ContainerKind::gzip : reader->container();
  facts.tar_format = reader->tar_format();
  facts.gzip = reader->gzip_header();
  facts.file_bytes = bytes->size();
  facts.tar_bytes = reader->uncompressed_bytes();
  facts.gzip_members =
      tar_stream ? index->members.size() + index->index_gzip_members : reader->gzip_members();
  if (index) {
    facts.index_version = index->version;
    facts.foreign_prefix_bytes = foreign_prefix_bytes(*index);
  }
  identify_writer(facts, tree.members.empty() ? "" : tree.members.front().stored_path);
  tree.archive = std::move(facts);
  if (options.check_index) {
    if (index) {
      check_against_index(*bytes, *index, gzip_members, tree);
    } else {
      check_orphan_index(gzip_members, tree);
    }
  }
  return tree;
}

Result<const IndexedEntry*> Artifact::Impl::indexed_file(std::string_view normalized) const {
  const IndexedEntry* entry = index->find(normalized);
  if (!entry || entry->type != EntryType::file) return no_such_member(name, normalized);
  return entry;
}

Result<void> Artifact::Impl::stream_streamed(std::string_view wanted, const ByteSink& sink,
                                             const CancelToken* cancel) const {
  // One pass. A stream cannot look ahead for a later duplicate (extractors keep the
  // last copy), so a small match is held until the end; a large one goes out as it is
  // read, and a later copy of it is then an error rather than a second, silent answer.
  constexpr std::uint64_t kHeldBytes = 8ull << 20;
  auto reader = ArchiveReader::open_source(*bytes, name, limits);
  if (!reader) return std::move(reader).error();
  std::optional<std::string> held;
  bool sent = false;
  std::vector<std::byte> buffer(1 << 20);
  for (;;) {
    if (cancelled(cancel)) return Error::interrupted();
    auto next = reader->next();
    if (!next) return std::move(next).error();
    if (!*next) break;
    const Entry& entry = **next;
    if (entry.type != EntryType::file || check_member_path(entry.path).normalized != wanted)
      continue;
    if (sent) {
      return Error::bad_input(name + ": member '" + std::string(wanted) +
                              "' appears again after the copy written out; extractors keep the "
                              "last one: extract the archive to read it");
    }
    const bool hold = entry.size <= kHeldBytes;
    held.reset();
    std::string data;
    for (;;) {
      auto got = reader->read(buffer);
      if (!got) return std::move(got).error();
      if (*got == 0) break;
      const std::span<const std::byte> piece(buffer.data(), *got);
      if (hold) {
        data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
      } else if (auto r = sink(piece); !r) {
        return r;
      }
      if (cancelled(cancel)) return Error::interrupted();
    }
    if (hold) {
      held = std::move(data);
    } else {
      sent = true;
    }
  }
  if (held) return sink(std::as_bytes(std::span(*held)));
  if (!sent) return no_such_member(name, wanted);
  return {};
}

Artifact::Artifact(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Artifact::Artifact(Artifact&&) noexcept = default;
Artifact& Artifact::operator=(Artifact&&) noexcept = default;
Artifact::~Artifact() = default;

Result<Artifact> Artifact::open(const fs::path& location, const ReadLimits& limits,
                                const S3Client* s3) {
  if (is_s3_url(location.native())) {
    if (!s3) return Error::usage(location.string() + ": S3 is not available here");
    auto url = parse_s3_url(location.native());
    if (!url) return std::move(url).error();
    if (!url->names_prefix()) {
      auto object = s3->open_object(*url);
      if (!object) return std::move(object).error();
      return open_archive(std::move(*object), url->text(), limits);
    }
    auto objects = s3->list(*url, limits.max_entries);
    if (!objects) return std::move(objects).error();
    if (objects->empty()) return Error::io(url->text() + ": no object under this prefix");
    auto impl = std::make_unique<Impl>();
    impl->name = url->text();
    impl->kind = ArtifactKind::s3_prefix;
    impl->limits = limits;
    impl->s3 = *s3;
    impl->prefix = std::move(*url);
    impl->objects = std::move(*objects);
    return Artifact(std::move(impl));
  }
  std::error_code ec;
  if (fs::is_directory(location, ec)) {
    auto impl = std::make_unique<Impl>();
    impl->name = location.string();
    impl->kind = ArtifactKind::directory;
    impl->limits = limits;
    impl->directory = location;
    return Artifact(std::move(impl));
  }
  auto file = FileByteSource::open(location);
  if (!file) return std::move(file).error();
  return open_archive(std::make_unique<FileByteSource>(std::move(*file)), location.string(),
                      limits);
}

Result<Artifact> Artifact::open_archive(std::unique_ptr<ByteSource> source, std::string name,
                                        const ReadLimits& limits) {
  auto impl = std::make_unique<Impl>();
  impl->name = std::move(name);
  impl->limits = limits;
  impl->bytes = std::move(source);
  auto index = read_archive_index(*impl->bytes, impl->name);
  if (!index) return std::move(index).error();
  impl->index = std::move(*index);
  impl->kind = impl->index ? ArtifactKind::smpack_archive : ArtifactKind::streamed_archive;
  return Artifact(std::move(impl));
}

ArtifactKind Artifact::kind() const {
  return impl_->kind;
}
const std::string& Artifact::name() const {
  return impl_->name;
}
const ReadLimits& Artifact::limits() const {
  return impl_->limits;
}
const ArchiveIndex* Artifact::index() const {
  return impl_->index ? &*impl_->index : nullptr;
}
const ByteSource* Artifact::bytes() const {
  return impl_->bytes.get();
}

std::vector<S3Object> Artifact::s3_objects() const {
  if (impl_->kind == ArtifactKind::s3_prefix) return impl_->objects;
  const auto* object = dynamic_cast<const S3ObjectSource*>(impl_->bytes.get());
  if (!object) return {};
  return {{object->location().key, object->size(), etag_without_quotes(object->quoted_etag())}};
}

Result<ModelTree> Artifact::visit(const VisitOptions& options) const {
  switch (impl_->kind) {
    case ArtifactKind::directory:
    case ArtifactKind::s3_prefix:
      return impl_->visit_layout(options);
    case ArtifactKind::smpack_archive:
      // A spliced archive's foreign prefix is read in order, as any foreign archive.
      if (options.check_index || impl_->index->foreign_members > 0)
        return impl_->visit_stream(options);
      if (options.hash_members && options.hash_from_data) {
        ParallelTarSource tar_stream(*impl_->bytes, *impl_->index, impl_->workers(), impl_->name);
        return impl_->visit_stream(options, &tar_stream);
      }
      return impl_->visit_index(options);
    case ArtifactKind::streamed_archive:
      return impl_->visit_stream(options);
  }
  return Error::internal("unknown artifact kind");
}

Result<void> Artifact::stream_member(std::string_view member_path, const ByteSink& sink,
                                     const CancelToken* cancel) const {
  auto wanted = wanted_member(member_path);
  if (!wanted) return std::move(wanted).error();
  switch (impl_->kind) {
    case ArtifactKind::directory:
    case ArtifactKind::s3_prefix: {
      auto file = open_member(*wanted, 0);
      if (!file) return std::move(file).error();
      return stream_all(**file, sink, cancel);
    }
    case ArtifactKind::smpack_archive: {
      auto entry = impl_->indexed_file(*wanted);
      if (!entry) return std::move(entry).error();
      if (impl_->in_foreign_prefix(**entry)) return impl_->stream_streamed(*wanted, sink, cancel);
      return stream_indexed_entry(*impl_->bytes, impl_->name, *impl_->index, **entry,
                                  impl_->workers(), sink, cancel);
    }
    case ArtifactKind::streamed_archive:
      return impl_->stream_streamed(*wanted, sink, cancel);
  }
  return Error::internal("unknown artifact kind");
}

Result<std::string> Artifact::read_member(std::string_view member_path,
                                          std::uint64_t max_bytes) const {
  std::string data;
  auto streamed = stream_member(member_path, [&](std::span<const std::byte> piece) -> Result<void> {
    if (data.size() + piece.size() > max_bytes) {
      return Error::bad_input(impl_->name + ": member '" + std::string(member_path) +
                              "' is larger than the " + std::to_string(max_bytes) +
                              " bytes read into memory");
    }
    data.append(reinterpret_cast<const char*>(piece.data()), piece.size());
    return {};
  });
  if (!streamed) return std::move(streamed).error();
  return data;
}

Result<std::unique_ptr<ByteSource>> Artifact::open_member(std::string_view member_path,
                                                          std::uint64_t max_bytes) const {
  auto wanted = wanted_member(member_path);
  if (!wanted) return std::move(wanted).error();
  switch (impl_->kind) {
    case ArtifactKind::directory:
    case ArtifactKind::s3_prefix:
      return impl_->open_layout_file(*wanted);
    case ArtifactKind::smpack_archive: {
      auto entry = impl_->indexed_file(*wanted);
      if (!entry) return std::move(entry).error();
      if (impl_->in_foreign_prefix(**entry)) {
        auto data = read_member(*wanted, max_bytes);
        if (!data) return std::move(data).error();
        return std::unique_ptr<ByteSource>(std::make_unique<OwnedBytes>(std::move(*data)));
      }
      return std::unique_ptr<ByteSource>(std::make_unique<IndexedEntryByteSource>(
          *impl_->bytes, impl_->name, *impl_->index, **entry));
    }
    case ArtifactKind::streamed_archive: {
      auto data = read_member(*wanted, max_bytes);
      if (!data) return std::move(data).error();
      return std::unique_ptr<ByteSource>(std::make_unique<OwnedBytes>(std::move(*data)));
    }
  }
  return Error::internal("unknown artifact kind");
}

Result<Manifest> Artifact::manifest(const CancelToken* cancel, ProgressSink* progress) const {
  if (impl_->index) {
    Manifest m;
    m.entries = impl_->index->manifest_entries();
    m.content_digest = content_digest(m.entries);
    m.archive_bytes = impl_->index->file_bytes;
    return m;
  }
  VisitOptions options;
  options.keep_content = nullptr;
  options.hash_members = true;
  options.cancel = cancel;
  options.progress = progress;
  auto tree = visit(options);
  if (!tree) return std::move(tree).error();
  return tree->manifest();
}

}  // namespace smpack
