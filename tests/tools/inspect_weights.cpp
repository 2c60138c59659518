// smpack_inspect_weights FILE... [--window HEAD:TAIL]
// Prints one JSON array with a WeightFileReport per file, for the Python tests that
// compare smpack's verdicts with picklescan, fickling and the safetensors reference.
// --window keeps only the first HEAD and last TAIL bytes of each file, the way a
// streamed archive member is held.
#include <cstdio>
#include <fstream>
#include <iostream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "smpack/byte_source.h"
#include "smpack/weight_scan.h"

namespace {

nlohmann::json to_json(const smpack::WeightFileReport& report) {
  nlohmann::json out;
  out["member"] = report.member;
  out["format"] = smpack::name_of(report.format);
  out["verdict"] = report.verdict ? nlohmann::json(smpack::name_of(*report.verdict)) : nullptr;
  out["globals"] = report.globals;
  out["tensors"] = nlohmann::json::array();
  for (const auto& tensor : report.tensors) {
    out["tensors"].push_back({{"name", tensor.name},
                              {"dtype", tensor.dtype},
                              {"shape", tensor.shape},
                              {"bytes", tensor.bytes}});
  }
  out["tensor_bytes"] = report.tensor_bytes;
  out["problems"] = nlohmann::json::array();
  for (const auto& problem : report.problems) {
    out["problems"].push_back(
        {{"kind", smpack::name_of(problem.kind)}, {"message", problem.message}});
  }
  out["complete"] = report.complete;
  return out;
}

std::vector<std::byte> read_range(const smpack::ByteSource& source, std::uint64_t offset,
                                  std::uint64_t length) {
  std::vector<std::byte> bytes(length);
  if (!source.read_at(offset, bytes)) bytes.clear();
  return bytes;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> files;
  std::uint64_t head = 0, tail = 0;
  bool windowed = false;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--window" && i + 1 < argc) {
      windowed = std::sscanf(argv[++i], "%lu:%lu", &head, &tail) == 2;
      if (!windowed) {
        std::cerr << "--window wants HEAD:TAIL in bytes\n";
        return 2;
      }
    } else {
      files.push_back(arg);
    }
  }
  if (files.empty()) {
    std::cerr << "usage: smpack_inspect_weights FILE... [--window HEAD:TAIL]\n";
    return 2;
  }
  nlohmann::json reports = nlohmann::json::array();
  int status = 0;
  for (const std::string& file : files) {
    auto source = smpack::FileByteSource::open(file);
    if (!source) {
      std::cerr << source.error().message << "\n";
      status = 3;
      continue;
    }
    smpack::Result<smpack::WeightFileReport> report = smpack::Error::internal("not run");
    if (windowed) {
      std::uint64_t size = source->size();
      std::uint64_t head_length = std::min(head, size);
      std::uint64_t tail_length = std::min(tail, size);
      smpack::WindowByteSource window(size, read_range(*source, 0, head_length),
                                      read_range(*source, size - tail_length, tail_length));
      report = smpack::inspect_weight_file(file, window);
    } else {
      report = smpack::inspect_weight_file(file, *source);
    }
    if (!report) {
      std::cerr << report.error().message << "\n";
      status = 3;
      continue;
    }
    reports.push_back(to_json(*report));
  }
  std::cout << reports.dump(2) << "\n";
  return status;
}
