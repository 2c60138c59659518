// smpack_scan_handlers: prints the HandlerScan of a module as JSON, for the differential
// test against CPython and the SageMaker inference toolkit.
//
//   smpack_scan_handlers ROOT_DIR RELATIVE_PATH   scan ROOT_DIR/RELATIVE_PATH; sibling
//                                                 modules are read from ROOT_DIR
//   smpack_scan_handlers --nfkc                   normalise each stdin line as an identifier
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>

#include "python/python_identifier.h"
#include "smpack/handler_scan.h"

namespace {

const char* kind_name(smpack::BindingKind kind) {
  using smpack::BindingKind;
  switch (kind) {
    case BindingKind::function:
      return "function";
    case BindingKind::async_function:
      return "async_function";
    case BindingKind::lambda:
      return "lambda";
    case BindingKind::alias:
      return "alias";
    case BindingKind::imported:
      return "imported";
    case BindingKind::class_object:
      return "class_object";
    case BindingKind::other_value:
      return "other_value";
    case BindingKind::none_value:
      return "none_value";
    case BindingKind::deleted:
      return "deleted";
  }
  return "?";
}

const char* problem_kind_name(smpack::ScanProblem::Kind kind) {
  using Kind = smpack::ScanProblem::Kind;
  switch (kind) {
    case Kind::syntax_error:
      return "syntax_error";
    case Kind::python2_syntax:
      return "python2_syntax";
    case Kind::unresolved_import:
      return "unresolved_import";
    case Kind::limit_exceeded:
      return "limit_exceeded";
  }
  return "?";
}

nlohmann::json to_json(const smpack::HandlerBinding& binding) {
  nlohmann::json out{{"file", binding.file},
                     {"line", binding.line},
                     {"kind", kind_name(binding.kind)},
                     {"signature_known", binding.signature_known},
                     {"callable_known", binding.callable_known},
                     {"conditional", binding.conditional},
                     {"decorators", binding.decorators},
                     {"note", binding.note},
                     {"is_async", binding.is_async()},
                     {"is_function", binding.is_function()}};
  out["value_kind"] = binding.value_kind() ? nlohmann::json(kind_name(*binding.value_kind()))
                                           : nlohmann::json(nullptr);
  out["params"] = binding.params ? nlohmann::json(*binding.params) : nlohmann::json(nullptr);
  const std::optional<bool> callable = binding.is_callable();
  out["callable"] = callable ? nlohmann::json(*callable) : nlohmann::json(nullptr);
  if (!binding.module_name.empty()) out["module"] = binding.module_name;
  return out;
}

std::unique_ptr<std::string> read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return nullptr;
  std::ostringstream content;
  content << in.rdbuf();
  return std::make_unique<std::string>(content.str());
}

int normalize_lines() {
  std::string line;
  while (std::getline(std::cin, line))
    std::cout << smpack::normalize_python_identifier(line) << '\n';
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc == 2 && std::string(argv[1]) == "--nfkc") return normalize_lines();
  if (argc != 3) {
    std::cerr << "usage: smpack_scan_handlers ROOT_DIR RELATIVE_PATH | --nfkc\n";
    return 2;
  }
  const std::filesystem::path root = argv[1];
  const std::string entry = argv[2];
  const std::unique_ptr<std::string> source = read_file(root / entry);
  if (!source) {
    std::cerr << "smpack_scan_handlers: cannot read " << (root / entry) << '\n';
    return 1;
  }
  std::map<std::string, std::unique_ptr<std::string>, std::less<>> siblings;
  const smpack::SourceLookup lookup = [&](std::string_view path) -> const std::string* {
    auto it = siblings.find(path);
    if (it == siblings.end()) {
      it = siblings.emplace(std::string(path), read_file(root / std::string(path))).first;
    }
    return it->second.get();
  };
  const smpack::ModuleScan scan = smpack::scan_handler_module(entry, *source, lookup);
  nlohmann::json out{{"file", scan.file}};
  out["bindings"] = nlohmann::json::object();
  for (const auto& [name, binding] : scan.bindings) out["bindings"][name] = to_json(binding);
  out["nested"] = nlohmann::json::array();
  for (const auto& nested : scan.nested) {
    out["nested"].push_back(
        {{"name", nested.name}, {"line", nested.line}, {"container", nested.container}});
  }
  out["problems"] = nlohmann::json::array();
  for (const auto& problem : scan.problems) {
    out["problems"].push_back({{"file", problem.file},
                               {"line", problem.line},
                               {"column", problem.column},
                               {"message", problem.message},
                               {"kind", problem_kind_name(problem.kind)}});
  }
  out["notes"] = nlohmann::json::array();
  for (const auto& note : scan.notes) {
    out["notes"].push_back({{"file", note.file}, {"line", note.line}, {"message", note.message}});
  }
  std::cout << out.dump(2) << '\n';
  return 0;
}
