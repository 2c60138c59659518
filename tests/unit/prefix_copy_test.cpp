#include "io/prefix_copy.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace smpack {
namespace {

// An output that keeps what it is given, or fails once it would hold more than
// `fail_past` bytes.
class MemoryOutput final : public ArchiveOutput {
 public:
  explicit MemoryOutput(std::size_t fail_past = SIZE_MAX) : fail_past_(fail_past) {}
  const std::string& name() const override { return name_; }
  Result<void> write(std::span<const std::byte> bytes) override {
    std::lock_guard lock(mutex_);
    if (bytes_.size() + bytes.size() > fail_past_) return Error::io(name_ + ": disk full");
    bytes_.append(reinterpret_cast<const char*>(bytes.data()), bytes.size());
    return {};
  }
  Result<void> commit() override { return {}; }
  std::string bytes() const {
    std::lock_guard lock(mutex_);
    return bytes_;
  }

 private:
  const std::size_t fail_past_;
  const std::string name_ = "out.tar.gz";
  mutable std::mutex mutex_;
  std::string bytes_;
};

std::string numbered_bytes(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>(i * 7 % 251);
  return s;
}

bool within_ten_seconds(const std::function<bool()>& done) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (!done()) {
    if (std::chrono::steady_clock::now() > until) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return true;
}

TEST(PrefixCopy, CopiesWhatIsAllowedBeforeTheEndIsKnown) {
  const std::string source_bytes = numbered_bytes(12 << 20);
  MemoryByteSource source(source_bytes);
  MemoryOutput out;
  PrefixCopy copy(out, source, nullptr);
  copy.at_least(6 << 20);
  EXPECT_TRUE(within_ten_seconds([&] { return out.bytes().size() == (6u << 20); }));
  copy.at_least(512);  // a smaller bound changes nothing
  const std::size_t prefix = (8 << 20) + 5;
  ASSERT_TRUE(copy.finish(prefix));
  EXPECT_EQ(out.bytes(), source_bytes.substr(0, prefix));
}

TEST(PrefixCopy, WaitsForSomeMiBBeforeTheEndIsKnown) {
  // A sequential scan moves the bound every few KiB; each move is not a copy of its own.
  const std::string source_bytes = numbered_bytes(12 << 20);
  MemoryByteSource source(source_bytes);
  MemoryOutput out;
  PrefixCopy copy(out, source, nullptr);
  for (std::size_t bound = 32 << 10; bound < (2 << 20); bound += 32 << 10) copy.at_least(bound);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_TRUE(out.bytes().empty());
  copy.at_least(5 << 20);
  EXPECT_TRUE(within_ten_seconds([&] { return out.bytes().size() == (5u << 20); }));
  ASSERT_TRUE(copy.finish(5 << 20));
}

TEST(PrefixCopy, CopiesMorePiecesThanOne) {
  const std::string source_bytes = numbered_bytes((70 << 20) + 3);  // past two 32 MiB pieces
  MemoryByteSource source(source_bytes);
  MemoryOutput out;
  PrefixCopy copy(out, source, nullptr);
  copy.at_least(40 << 20);
  ASSERT_TRUE(copy.finish(source_bytes.size()));
  EXPECT_TRUE(out.bytes() == source_bytes);
}

TEST(PrefixCopy, AnEndBeforeWhatWasAllowedIsAnInternalError) {
  const std::string source_bytes = numbered_bytes(4096);
  MemoryByteSource source(source_bytes);
  MemoryOutput out;
  PrefixCopy copy(out, source, nullptr);
  copy.at_least(1000);
  auto finished = copy.finish(999);
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().kind, ErrorKind::internal);
  EXPECT_NE(finished.error().message.find("out.tar.gz"), std::string::npos);
  auto again = copy.finish(4096);  // ended once already
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().kind, ErrorKind::internal);
  EXPECT_LE(out.bytes().size(), 1000u);
}

TEST(PrefixCopy, TheOutputsErrorComesBackFromFinish) {
  const std::string source_bytes = numbered_bytes(1 << 20);
  MemoryByteSource source(source_bytes);
  MemoryOutput out(/*fail_past=*/1000);
  PrefixCopy copy(out, source, nullptr);
  copy.at_least(4096);
  auto finished = copy.finish(1 << 20);
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().kind, ErrorKind::io);
  EXPECT_EQ(finished.error().message, "out.tar.gz: disk full");
}

TEST(PrefixCopy, ACancelledCopyIsInterrupted) {
  const std::string source_bytes = numbered_bytes(1 << 20);
  MemoryByteSource source(source_bytes);
  MemoryOutput out;
  CancelToken cancel;
  cancel.cancel();
  PrefixCopy copy(out, source, &cancel);
  auto finished = copy.finish(1 << 20);
  ASSERT_FALSE(finished);
  EXPECT_EQ(finished.error().kind, ErrorKind::interrupted);
  EXPECT_TRUE(out.bytes().empty());
}

TEST(PrefixCopy, DroppedUnfinishedItStopsWithinWhatWasAllowed) {
  const std::string source_bytes = numbered_bytes(8 << 20);
  MemoryByteSource source(source_bytes);
  MemoryOutput out;
  {
    PrefixCopy copy(out, source, nullptr);
    copy.at_least(6 << 20);
  }  // joins without a finish
  const std::string copied = out.bytes();
  EXPECT_LE(copied.size(), 6u << 20);
  EXPECT_EQ(copied, source_bytes.substr(0, copied.size()));
}

}  // namespace
}  // namespace smpack
