#include "smpack/handler_scan.h"

namespace smpack {

const HandlerBinding* ModuleScan::find(std::string_view name) const {
  auto it = bindings.find(name);
  return it == bindings.end() ? nullptr : &it->second;
}

std::optional<BindingKind> HandlerBinding::value_kind() const {
  if (kind == BindingKind::alias || kind == BindingKind::imported) return target_kind;
  return kind;
}

bool HandlerBinding::is_function() const {
  auto value = value_kind();
  return value == BindingKind::function || value == BindingKind::async_function ||
         value == BindingKind::lambda;
}

bool HandlerBinding::is_async() const { return value_kind() == BindingKind::async_function; }

std::optional<bool> HandlerBinding::is_callable() const {
  if (!callable_known) return std::nullopt;
  auto value = value_kind();
  if (!value) return std::nullopt;
  return is_function() || value == BindingKind::class_object;
}

ModuleScan scan_handler_module(std::string_view path, std::string_view, const SourceLookup&,
                               const HandlerScanLimits&) {
  ModuleScan scan;
  scan.file = std::string(path);
  return scan;
}

}  // namespace smpack
