#include "smpack/archive_output.h"

#include <algorithm>
#include <vector>

#include "io/file_io.h"
#include "smpack/s3.h"

namespace smpack {

Result<void> ArchiveOutput::copy_from(const ByteSource& source, std::uint64_t offset,
                                      std::uint64_t length, const CancelToken* cancel) {
  std::vector<std::byte> buffer(static_cast<std::size_t>(std::min<std::uint64_t>(length, 4 << 20)));
  while (length > 0) {
    if (cancel && cancel->cancelled()) return Error::interrupted();
    auto piece = std::span(buffer).first(
        static_cast<std::size_t>(std::min<std::uint64_t>(length, buffer.size())));
    if (auto r = source.read_at(offset, piece); !r) return r;
    if (auto r = write(piece); !r) return r;
    offset += piece.size();
    length -= piece.size();
  }
  return {};
}

namespace {

// A local archive: AtomicOutputFile, with copies read straight into its buffer.
class FileArchiveOutput final : public ArchiveOutput {
 public:
  FileArchiveOutput(AtomicOutputFile file, std::string name)
      : file_(std::move(file)), name_(std::move(name)) {}
  const std::string& name() const override { return name_; }
  Result<void> write(std::span<const std::byte> bytes) override { return file_.write(bytes); }
  Result<void> commit() override { return file_.commit(); }

  Result<void> copy_from(const ByteSource& source, std::uint64_t offset, std::uint64_t length,
                         const CancelToken* cancel) override {
    return file_.append(length, [&](std::span<std::byte> into) -> Result<void> {
      if (cancel && cancel->cancelled()) return Error::interrupted();
      if (auto read = source.read_at(offset, into); !read) return read;
      offset += into.size();
      return {};
    });
  }

 private:
  AtomicOutputFile file_;
  std::string name_;
};

}  // namespace

Result<std::unique_ptr<ArchiveOutput>> open_archive_output(const std::string& location,
                                                           const S3Client* s3,
                                                           const ArchiveOutputOptions& options) {
  if (is_s3_url(location)) {
    if (!s3) return Error::usage(location + ": S3 is not available here");
    auto url = parse_s3_url(location);
    if (!url) return std::move(url).error();
    if (url->names_prefix()) {
      return Error::usage(location +
                          ": names a prefix; an archive is written to an object key "
                          "(s3://bucket/path/model.tar.gz)");
    }
    return s3->create_upload(*url, options);
  }
  auto file = AtomicOutputFile::create(location, options.durable);
  if (!file) return std::move(file).error();
  return std::unique_ptr<ArchiveOutput>(
      std::make_unique<FileArchiveOutput>(std::move(*file), location));
}

}  // namespace smpack
