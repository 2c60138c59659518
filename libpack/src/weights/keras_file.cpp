#include "weights/keras_file.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "weights/weight_report_builder.h"

namespace smpack {
namespace {

constexpr std::string_view kHdf5Signature = "\x89HDF\r\n\x1a\n";
constexpr std::uint64_t kMaxConfigBytes = 16ull << 20;
constexpr std::size_t kMaxJsonDepth = 128;

// Finds {"class_name": "Lambda", ...} anywhere in the config, and the layer's name from
// its "config": {"name": ...} where it comes before the end of the object.
class LambdaFinder {
 public:
  using json = nlohmann::json;

  std::vector<std::string> lambdas;
  bool too_deep = false;

  bool null() { return value(); }
  bool boolean(bool) { return value(); }
  bool number_integer(json::number_integer_t) { return value(); }
  bool number_unsigned(json::number_unsigned_t) { return value(); }
  bool number_float(json::number_float_t, const std::string&) { return value(); }
  bool binary(json::binary_t&) { return value(); }
  bool string(std::string& text) {
    if (key_ == "class_name" && text == "Lambda") lambdas.emplace_back();
    if (key_ == "name" && !lambdas.empty() && lambdas.back().empty() && depth_ > 0) {
      lambdas.back() = text;
    }
    return value();
  }
  bool key(std::string& name) {
    key_ = name;
    return true;
  }
  bool start_object(std::size_t) { return enter(); }
  bool start_array(std::size_t) { return enter(); }
  bool end_object() { return leave(); }
  bool end_array() { return leave(); }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) {
    return false;
  }

 private:
  bool value() {
    key_.clear();
    return true;
  }
  bool enter() {
    key_.clear();
    if (++depth_ <= kMaxJsonDepth) return true;
    too_deep = true;
    return false;
  }
  bool leave() {
    --depth_;
    return true;
  }

  std::string key_;
  std::size_t depth_ = 0;
};

const ZipEntry* root_entry(const ZipDirectory& directory, std::string_view name) {
  auto it = std::find_if(directory.entries.begin(), directory.entries.end(),
                         [&](const ZipEntry& e) { return e.name == name; });
  return it == directory.entries.end() ? nullptr : &*it;
}

}  // namespace

bool is_keras_zip(const ZipDirectory& directory) {
  return root_entry(directory, "config.json") != nullptr &&
         (root_entry(directory, "metadata.json") != nullptr ||
          root_entry(directory, "model.weights.h5") != nullptr);
}

Result<void> inspect_keras_zip(const ByteSource& source, const ZipDirectory& directory,
                               const WeightScanLimits& limits, WeightFileReport& report) {
  const ZipEntry& config = *root_entry(directory, "config.json");
  auto data = read_zip_member(source, config, report.member, kMaxConfigBytes);
  if (!data) return std::move(data).error();
  add_named_problems(report, std::move(data->problems));
  if (!data->complete) {
    add_problem(report, WeightProblemKind::cap_exceeded,
                "config.json was not read whole (it is over 16 MiB or not available), so its "
                "layers were not judged");
  } else {
    LambdaFinder finder;
    const auto* text = reinterpret_cast<const char*>(data->bytes.data());
    const bool parsed =
        nlohmann::json::sax_parse(text, text + data->bytes.size(), &finder,
                                  nlohmann::json::input_format_t::json, /*strict=*/true);
    if (!parsed) {
      add_problem(report, WeightProblemKind::checkpoint_layout,
                  finder.too_deep ? "config.json nests deeper than 128 levels"
                                  : "config.json is not valid JSON");
    }
    for (const std::string& name : finder.lambdas) {
      add_problem(report, WeightProblemKind::keras_lambda,
                  "config.json has a Lambda layer" + (name.empty() ? "" : " '" + name + "'") +
                      ": its marshalled Python bytecode runs on load with safe_mode=False, and "
                      "load_model refuses it by default");
    }
  }
  std::vector<const ZipEntry*> read_already{&config};
  return check_zip_crcs(source, directory, read_already, limits, report);
}

bool looks_like_hdf5(std::span<const std::byte> head) {
  return head.size() >= kHdf5Signature.size() &&
         std::equal(kHdf5Signature.begin(), kHdf5Signature.end(), head.begin(),
                    [](char c, std::byte b) { return static_cast<std::byte>(c) == b; });
}

}  // namespace smpack
