#include "smpack/batch_transform.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>

namespace smpack {
namespace {

namespace fs = std::filesystem;

struct Record {
  std::string body;
  std::uint64_t first_line = 0;
  std::uint64_t last_line = 0;
};

Result<std::vector<fs::path>> input_files(const fs::path& input) {
  std::error_code error;
  if (fs::is_regular_file(input, error)) return std::vector<fs::path>{input.filename()};
  if (!fs::is_directory(input, error))
    return Error::io(input.string() + ": no such file or folder");
  std::vector<fs::path> files;
  for (fs::recursive_directory_iterator it(input, error), end; !error && it != end;
       it.increment(error)) {
    if (it->is_regular_file(error)) files.push_back(fs::relative(it->path(), input, error));
  }
  if (error) return Error::io(input.string() + ": " + error.message());
  std::sort(files.begin(), files.end());
  return files;
}

class FileJob {
 public:
  FileJob(const InvocationHandler& handler, const BatchOptions& options, std::string name,
          std::ofstream& out, BatchReport& report)
      : handler_(handler), options_(options), name_(std::move(name)), out_(out), report_(report) {}

  // Sends one request of records [first_line, last_line].
  void send(const Record& record) {
    ++report_.requests;
    if (record.body.size() > options_.max_payload_bytes)
      return too_large(record, record.body.size());
    const auto response = handler_.invoke({record.body, options_.content_type, options_.accept});
    if (response.status != 200) return fail(record, response.status, response.body);
    out_ << response.body;
    if (options_.assemble == AssembleWith::line) out_ << '\n';
  }

  // Line split: records one by one, or packed into mini-batches under the payload limit.
  void add_line(std::string line, std::uint64_t number) {
    ++report_.records;
    if (options_.strategy == BatchStrategy::single_record) {
      return send({std::move(line), number, number});
    }
    if (!pending_.body.empty() &&
        pending_.body.size() + 1 + line.size() > options_.max_payload_bytes) {
      flush();
    }
    if (pending_.body.empty()) {
      pending_ = {std::move(line), number, number};
      return;
    }
    pending_.body += '\n';
    pending_.body += line;
    pending_.last_line = number;
  }

  // A request over MaxPayloadInMB fails on its own, unsent (`bytes`: its size).
  void too_large(const Record& record, std::uint64_t bytes) {
    fail(record, 413,
         "the request is " + std::to_string(bytes) + " bytes, more than MaxPayloadInMB (" +
             std::to_string(options_.max_payload_bytes) + " bytes)");
  }

  void flush() {
    if (pending_.body.empty()) return;
    send(pending_);
    pending_ = {};
  }

 private:
  void fail(const Record& record, int status, std::string message) {
    report_.failures.push_back(
        {name_, record.first_line, record.last_line, status, std::move(message)});
  }

  const InvocationHandler& handler_;
  const BatchOptions& options_;
  std::string name_;
  std::ofstream& out_;
  BatchReport& report_;
  Record pending_;
};

}  // namespace

const std::map<std::string, SplitType>& split_type_names() {
  static const std::map<std::string, SplitType> names{{"None", SplitType::none},
                                                      {"Line", SplitType::line}};
  return names;
}

const std::map<std::string, BatchStrategy>& batch_strategy_names() {
  static const std::map<std::string, BatchStrategy> names{
      {"SingleRecord", BatchStrategy::single_record}, {"MultiRecord", BatchStrategy::multi_record}};
  return names;
}

const std::map<std::string, AssembleWith>& assemble_with_names() {
  static const std::map<std::string, AssembleWith> names{{"None", AssembleWith::none},
                                                         {"Line", AssembleWith::line}};
  return names;
}

std::string describe_failure(const RecordFailure& failure) {
  std::string text = failure.file;
  if (failure.first_line != 0) {
    text += ":" + std::to_string(failure.first_line);
    if (failure.last_line != failure.first_line) text += "-" + std::to_string(failure.last_line);
  }
  return text + ": " + std::to_string(failure.status) + ": " + failure.message;
}

std::string batch_summary(const BatchReport& report) {
  char seconds[32];
  std::snprintf(seconds, sizeof(seconds), "%.3f", report.seconds);
  return std::to_string(report.files) + " file(s), " + std::to_string(report.records) +
         " record(s), " + std::to_string(report.requests) + " request(s), " +
         std::to_string(report.failures.size()) + " failed, " + seconds + " s";
}

Result<BatchReport> run_batch(const InvocationHandler& handler, const BatchOptions& options,
                              const CancelToken& cancel) {
  const auto start = std::chrono::steady_clock::now();
  auto files = input_files(options.input);
  if (!files) return std::move(files).error();
  const bool single_file = std::filesystem::is_regular_file(options.input);
  // .out files inside the input folder would be the next run's input.
  const auto input_root = fs::weakly_canonical(options.input);
  const auto output_root = fs::weakly_canonical(options.output_dir);
  if (!single_file &&
      std::mismatch(input_root.begin(), input_root.end(), output_root.begin(), output_root.end())
              .first == input_root.end()) {
    return Error::usage("the output folder " + options.output_dir.string() +
                        " is inside the input folder " + options.input.string());
  }
  BatchReport report;
  for (const auto& relative : *files) {
    if (cancel.cancelled()) return Error::interrupted();
    const auto in_path = single_file ? options.input : options.input / relative;
    const auto out_path = options.output_dir / (relative.string() + ".out");
    std::error_code error;
    fs::create_directories(out_path.parent_path(), error);
    std::ifstream in(in_path, std::ios::binary);
    if (!in) return Error::io(in_path.string() + ": cannot read");
    std::ofstream out(out_path, std::ios::binary | std::ios::trunc);
    if (!out) return Error::io(out_path.string() + ": cannot write");
    // Ctrl-C leaves no half-written .out behind (a request it cut short answers anything).
    auto interrupted = [&] {
      out.close();
      fs::remove(out_path, error);
      return Error::interrupted();
    };
    ++report.files;
    FileJob job(handler, options, relative.string(), out, report);
    if (options.split == SplitType::none) {
      ++report.records;
      // A file over the limit is refused before it is read.
      const auto size = fs::file_size(in_path, error);
      if (!error && size > options.max_payload_bytes) {
        ++report.requests;
        job.too_large({}, size);
      } else {
        std::string body((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        job.send({std::move(body), 0, 0});
      }
      if (cancel.cancelled()) return interrupted();
    } else {
      std::string line;
      for (std::uint64_t number = 1; std::getline(in, line); ++number) {
        if (cancel.cancelled()) return interrupted();
        if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
        job.add_line(std::move(line), number);
      }
      job.flush();
      if (cancel.cancelled()) return interrupted();
    }
    if (in.bad()) return Error::io(in_path.string() + ": read failed");
    if (!out.flush()) return Error::io(out_path.string() + ": write failed");
  }
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace smpack
