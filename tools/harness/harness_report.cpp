#include "harness_report.h"

#include <algorithm>
#include <cstdio>
#include <nlohmann/json.hpp>

namespace smpack::harness {
namespace {

// Fixed-point with `decimals` digits, or %g-style ("%.3g") when `decimals` is negative.
std::string number(double value, int decimals) {
  char buffer[64];
  if (decimals < 0) {
    std::snprintf(buffer, sizeof buffer, "%.*g", -decimals, value);
  } else {
    std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  }
  return buffer;
}

std::string shape_text(const std::vector<std::int64_t>& shape) {
  std::string text = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) text += (i ? "x" : "") + std::to_string(shape[i]);
  return text + "]";
}

std::string bytes_text(std::uint64_t bytes) {
  if (bytes >= (1ull << 30)) return number(static_cast<double>(bytes) / (1ull << 30), 2) + " GiB";
  if (bytes >= (1ull << 20)) return number(static_cast<double>(bytes) / (1ull << 20), 1) + " MiB";
  if (bytes >= (1ull << 10)) return number(static_cast<double>(bytes) / (1ull << 10), 1) + " KiB";
  return std::to_string(bytes) + " B";
}

// Rows of cells, each column padded to its widest cell.
std::string table(const std::vector<std::vector<std::string>>& rows) {
  std::vector<std::size_t> widths;
  for (const auto& row : rows) {
    widths.resize(std::max(widths.size(), row.size()));
    for (std::size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  std::string text;
  for (const auto& row : rows) {
    std::string line = " ";
    for (std::size_t i = 0; i < row.size(); ++i) {
      line +=
          " " + row[i] + std::string(i + 1 < row.size() ? widths[i] - row[i].size() + 1 : 0, ' ');
    }
    text += line + "\n";
  }
  return text;
}

std::string tensors_text(const std::vector<TensorSummary>& tensors) {
  std::vector<std::vector<std::string>> rows{{"name", "shape", "dtype", "bytes", "nan", "inf"}};
  for (const auto& tensor : tensors) {
    rows.push_back({tensor.name, shape_text(tensor.shape), tensor.dtype, bytes_text(tensor.bytes),
                    std::to_string(tensor.nan_count), std::to_string(tensor.inf_count)});
  }
  return table(rows);
}

std::vector<std::string> latency_cells(const LatencySummary& latency) {
  return {number(latency.p50_ms, 3), number(latency.p90_ms, 3), number(latency.p99_ms, 3),
          number(latency.samples_per_second, 1)};
}

nlohmann::json latency_json(const LatencySummary& latency) {
  return {{"runs", latency.runs},     {"mean_ms", latency.mean_ms},
          {"min_ms", latency.min_ms}, {"p50_ms", latency.p50_ms},
          {"p90_ms", latency.p90_ms}, {"p99_ms", latency.p99_ms},
          {"max_ms", latency.max_ms}, {"samples_per_second", latency.samples_per_second}};
}

nlohmann::json tensors_json(const std::vector<TensorSummary>& tensors) {
  auto list = nlohmann::json::array();
  for (const auto& tensor : tensors) {
    list.push_back({{"name", tensor.name},
                    {"shape", tensor.shape},
                    {"dtype", tensor.dtype},
                    {"bytes", tensor.bytes},
                    {"nan_count", tensor.nan_count},
                    {"inf_count", tensor.inf_count}});
  }
  return list;
}

template <class T>
nlohmann::json optional_json(const std::optional<T>& value) {
  return value ? nlohmann::json(*value) : nlohmann::json(nullptr);
}

}  // namespace

bool HarnessReport::passed() const {
  return std::all_of(checks.begin(), checks.end(), [](const auto& check) { return check.passed; });
}

std::string model_kind_name(ModelKind kind) {
  switch (kind) {
    case ModelKind::unrecognised:
      return "unrecognised";
    case ModelKind::torchscript:
      return "torchscript";
    case ModelKind::state_dict:
      return "state_dict";
    case ModelKind::pickled_object:
      return "pickled_object";
  }
  return "?";
}

std::optional<std::int64_t> largest_fitting_batch(const HarnessReport& report) {
  std::optional<std::int64_t> largest;
  for (const auto& point : report.batch_sweep) {
    if (point.fits) largest = std::max(largest.value_or(point.batch), point.batch);
  }
  return largest;
}

std::string render_text(const HarnessReport& report) {
  std::string text = "smpack-harness: " + report.source + " : " + report.model_member + " (" +
                     model_kind_name(report.model_kind) + ", " + bytes_text(report.model_bytes) +
                     ")\n";
  text += "device: " + report.device +
          (report.device_name.empty() ? "" : " (" + report.device_name + ")") + ", torch " +
          report.torch_version + "\n";
  if (report.cold_load_ms) text += "cold load: " + number(*report.cold_load_ms, 1) + " ms" + "\n";
  if (report.first_result_ms)
    text += "first result: " + number(*report.first_result_ms, 1) + " ms" + "\n";
  if (!report.inputs.empty()) text += "inputs:\n" + tensors_text(report.inputs);
  if (!report.outputs.empty()) text += "outputs:\n" + tensors_text(report.outputs);
  if (!report.saved_tensors.empty()) {
    text += "tensors (" + std::to_string(report.saved_tensors.size()) + "):\n" +
            tensors_text(report.saved_tensors);
  }
  if (!report.dangerous_globals.empty()) {
    text += "dangerous: unpickling runs code or commands through:";
    for (const auto& name : report.dangerous_globals) text += " " + name;
    text += "\n";
  }
  if (!report.python_classes.empty()) {
    text += "python classes needed to unpickle:";
    for (const auto& name : report.python_classes) text += " " + name;
    text += "\n";
  }
  if (!report.checks.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"check", "result", "max abs err", "max rel err", "detail"}};
    for (const auto& check : report.checks) {
      rows.push_back({check.name, check.passed ? "ok" : "FAILED",
                      check.max_abs_error ? number(*check.max_abs_error, -3) : "-",
                      check.max_rel_error ? number(*check.max_rel_error, -3) : "-", check.detail});
    }
    text += "checks:\n" + table(rows);
  }
  if (report.latency || !report.batch_sweep.empty()) {
    std::vector<std::vector<std::string>> rows{
        {"batch", "p50 ms", "p90 ms", "p99 ms", "samples/s", "peak mem"}};
    // A sweep that includes the base batch reuses its measurement: show that row once.
    const bool base_in_sweep =
        std::any_of(report.batch_sweep.begin(), report.batch_sweep.end(),
                    [&](const BatchPoint& point) { return point.batch == report.batch; });
    if (report.latency && !base_in_sweep) {
      auto cells = latency_cells(*report.latency);
      cells.insert(cells.begin(), std::to_string(report.batch));
      cells.push_back(report.peak_memory_bytes ? bytes_text(*report.peak_memory_bytes) : "-");
      rows.push_back(cells);
    }
    for (const auto& point : report.batch_sweep) {
      if (!point.fits) {
        rows.push_back({std::to_string(point.batch), "out of memory"});
        continue;
      }
      auto cells = latency_cells(point.latency);
      cells.insert(cells.begin(), std::to_string(point.batch));
      cells.push_back(point.peak_memory_bytes ? bytes_text(*point.peak_memory_bytes) : "-");
      rows.push_back(cells);
    }
    text += "latency (" + std::to_string(report.latency ? report.latency->runs : 0) + " runs):\n" +
            table(rows);
    if (auto largest = largest_fitting_batch(report)) {
      text += "largest batch that fits: " + std::to_string(*largest) + "\n";
    }
  }
  for (const auto& note : report.notes) text += "note: " + note + "\n";
  text += std::string("result: ") + (report.passed() ? "ok" : "FAILED") + "\n";
  return text;
}

std::string render_json(const HarnessReport& report) {
  nlohmann::json json;
  json["source"] = report.source;
  json["model_member"] = report.model_member;
  json["model_kind"] = model_kind_name(report.model_kind);
  json["model_bytes"] = report.model_bytes;
  json["device"] = report.device;
  json["device_name"] = report.device_name;
  json["torch_version"] = report.torch_version;
  json["cold_load_ms"] = optional_json(report.cold_load_ms);
  json["first_result_ms"] = optional_json(report.first_result_ms);
  json["inputs"] = tensors_json(report.inputs);
  json["outputs"] = tensors_json(report.outputs);
  json["checks"] = nlohmann::json::array();
  for (const auto& check : report.checks) {
    json["checks"].push_back({{"name", check.name},
                              {"passed", check.passed},
                              {"detail", check.detail},
                              {"max_abs_error", optional_json(check.max_abs_error)},
                              {"max_rel_error", optional_json(check.max_rel_error)}});
  }
  json["batch"] = report.batch;
  json["latency"] = report.latency ? latency_json(*report.latency) : nlohmann::json(nullptr);
  json["peak_memory_bytes"] = optional_json(report.peak_memory_bytes);
  json["batch_sweep"] = nlohmann::json::array();
  for (const auto& point : report.batch_sweep) {
    json["batch_sweep"].push_back(
        {{"batch", point.batch},
         {"fits", point.fits},
         {"latency", point.fits ? latency_json(point.latency) : nlohmann::json(nullptr)},
         {"peak_memory_bytes", optional_json(point.peak_memory_bytes)}});
  }
  json["largest_batch"] = optional_json(largest_fitting_batch(report));
  json["saved_tensors"] = tensors_json(report.saved_tensors);
  json["python_classes"] = report.python_classes;
  json["dangerous_globals"] = report.dangerous_globals;
  json["notes"] = report.notes;
  json["passed"] = report.passed();
  // Model and tensor names come from the archive: replace invalid UTF-8 rather than throw.
  return json.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

}  // namespace smpack::harness
