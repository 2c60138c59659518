// Import resolution for the handler scan: sibling modules of the archive, read through the
// SourceLookup once each, with cycle, depth and file caps.
#include <algorithm>

#include "python/handler_module_scanner.h"

namespace smpack::handler_scan_internal {

const ModuleResult* ScanSession::scan_file(const std::string& path, int depth, std::string& why) {
  if (auto it = cache_.find(path); it != cache_.end()) return it->second.get();
  if (in_progress_.count(path) != 0) {
    why = "import cycle through " + path;
    return nullptr;
  }
  if (depth > limits_.max_import_depth) {
    why = "imports nested more than " + std::to_string(limits_.max_import_depth) + " deep";
    return nullptr;
  }
  if (cache_.size() >= limits_.max_files) {
    why = "more than " + std::to_string(limits_.max_files) + " modules read";
    return nullptr;
  }
  const std::string* source = sibling_ ? sibling_(path) : nullptr;
  if (source == nullptr) {
    why = path + " is not in the archive";
    return nullptr;
  }
  in_progress_.insert(path);
  auto result = std::make_unique<ModuleResult>(ModuleScanner(*this, path, *source, depth).run());
  in_progress_.erase(path);
  return cache_.emplace(path, std::move(result)).first->second.get();
}

void ModuleScanner::record_all_names(TokenRange targets, TokenRange value, bool augmented) {
  if (!(targets.size() == 1 && view().is_name(targets.begin, "__all__"))) return;
  const TokenRange inner =
      view().strip_enclosing(view().strip_enclosing(value, "[", "]"), "(", ")");
  std::vector<std::string> names;
  bool literal = inner.size() != value.size() || value.size() == 1;
  for (TokenRange item : view().split_top_level(inner, ",")) {
    if (item.empty()) continue;
    if (item.size() == 1 && view().is_kind(item.begin, TokenKind::string)) {
      names.emplace_back(string_token_body(token(item.begin).text));
    } else {
      literal = false;
    }
  }
  if (!literal) {
    result_.all_names.reset();
    result_.exports_unknown = true;
    return;
  }
  if (!augmented || !result_.all_names) result_.all_names.emplace();
  result_.all_names->insert(result_.all_names->end(), names.begin(), names.end());
}

ModuleScanner::ModuleRef ModuleScanner::find_module(std::string_view dotted,
                                                    const std::vector<std::string>& bases) const {
  for (const std::string& base : bases) {
    for (const std::string& candidate : ModulePaths::candidates(base, dotted)) {
      if (session_.exists(candidate)) {
        return {session_.paths().module_name_of(candidate), candidate};
      }
    }
  }
  return {std::string(dotted), {}};
}

// Absolute imports, and `code.x` found from the archive root: that works only with the model
// directory on sys.path and code/__init__.py present, since the standard library has a
// module named `code` too.
ModuleScanner::ModuleRef ModuleScanner::find_absolute_module(std::string_view dotted, int line) {
  const std::vector<std::string> bases = session_.paths().absolute_bases(dotted);
  const ModuleRef found = find_module(dotted, bases);
  if (found.file.empty() || bases.size() < 2 || !find_module(dotted, {bases[0]}).file.empty()) {
    return found;
  }
  const std::string package = session_.paths().root();
  const std::string message = "import of " + std::string(dotted) + " through the archive root";
  if (session_.exists(package + "/__init__.py")) {
    result_.scan.notes.push_back(
        {path_, line, message + ": works only when the model directory is on sys.path"});
  } else {
    problem(line, 1,
            message + ": '" + package.substr(package.rfind('/') + 1) +
                "' is the standard-library module, not a package, without " + package +
                "/__init__.py",
            ScanProblem::Kind::unresolved_import);
  }
  return found;
}

const ModuleResult* ModuleScanner::scan_module_file(const std::string& file, int line) {
  std::string why;
  const ModuleResult* module = session_.scan_file(file, depth_ + 1, why);
  if (module == nullptr) {
    const bool cycle = why.rfind("import cycle", 0) == 0;
    if (cycle) {
      result_.scan.notes.push_back({path_, line, why + ": names from it are not resolved"});
    } else {
      problem(line, 1, why, ScanProblem::Kind::limit_exceeded);
    }
    return nullptr;
  }
  // Its problems break this import too (CPython runs the module on import).
  for (const ScanProblem& found : module->scan.problems) {
    const bool known = std::any_of(
        result_.scan.problems.begin(), result_.scan.problems.end(), [&](const ScanProblem& p) {
          return p.file == found.file && p.line == found.line && p.message == found.message;
        });
    if (!known) result_.scan.problems.push_back(found);
  }
  for (const ScanNote& note : module->scan.notes) {
    const bool known =
        std::any_of(result_.scan.notes.begin(), result_.scan.notes.end(), [&](const ScanNote& n) {
          return n.file == note.file && n.line == note.line && n.message == note.message;
        });
    if (!known) result_.scan.notes.push_back(note);
  }
  return module;
}

HandlerBinding ModuleScanner::module_binding(const ModuleRef& module, std::string name, int line) {
  HandlerBinding binding;
  binding.name = std::move(name);
  binding.file = path_;
  binding.line = line;
  binding.kind = BindingKind::imported;
  binding.target_kind = BindingKind::other_value;  // a module object: not callable
  binding.signature_known = false;
  binding.module_name = module.name;
  binding.module_file = module.file;
  binding.note = module.file.empty() ? "module " + module.name + " (not in the archive)"
                                     : "module " + module.name + " (" + module.file + ")";
  if (!module.file.empty()) scan_module_file(module.file, line);
  return binding;
}

HandlerBinding ModuleScanner::imported_copy(const HandlerBinding& source, std::string name,
                                            int line, const std::string& origin) const {
  HandlerBinding binding = source;
  binding.name = std::move(name);
  binding.file = path_;
  binding.line = line;
  binding.kind = BindingKind::imported;
  binding.target_kind = source.value_kind();
  binding.conditional = false;
  binding.note = origin + " (" + source.file + " line " + std::to_string(source.line) + ")";
  if (!source.note.empty()) binding.note += "; " + source.note;
  return binding;
}

HandlerBinding ModuleScanner::unknown_binding(std::string name, int line, std::string note) const {
  HandlerBinding binding;
  binding.name = std::move(name);
  binding.file = path_;
  binding.line = line;
  binding.kind = BindingKind::imported;
  binding.callable_known = false;
  binding.signature_known = false;
  binding.note = std::move(note);
  return binding;
}

HandlerBinding ModuleScanner::resolve_module_attribute(const HandlerBinding& module,
                                                       const std::vector<std::string>& attributes,
                                                       int line) {
  ModuleRef current{module.module_name, module.module_file};
  for (std::size_t i = 0; i < attributes.size(); ++i) {
    const std::string& attribute = attributes[i];
    const bool last = i + 1 == attributes.size();
    const std::string origin = "attribute " + attribute + " of module " + current.name;
    if (current.file.empty()) {
      return unknown_binding(attribute, line, origin + " (not in the archive)");
    }
    const ModuleResult* scanned = scan_module_file(current.file, line);
    if (scanned == nullptr) return unknown_binding(attribute, line, origin + " (not read)");
    const HandlerBinding* found = scanned->scan.find(attribute);
    if (found != nullptr && found->kind != BindingKind::deleted) {
      if (last) return imported_copy(*found, attribute, line, origin);
      if (found->module_file.empty()) return unknown_binding(attribute, line, origin);
      current = {found->module_name, found->module_file};
      continue;
    }
    const ModuleRef submodule =
        find_module(current.name + "." + attribute, {session_.paths().root()});
    if (!submodule.file.empty()) {
      if (last) return module_binding(submodule, attribute, line);
      current = submodule;
      continue;
    }
    if (scanned->exports_unknown) return unknown_binding(attribute, line, origin);
    problem(line, 1, "module '" + current.name + "' has no attribute '" + attribute + "'",
            ScanProblem::Kind::unresolved_import);
    return unknown_binding(attribute, line, origin + ": not defined there (AttributeError)");
  }
  return unknown_binding(module.name, line, "module attribute");
}

void ModuleScanner::bind_import(const Scope& scope, TokenRange range) {
  // import a.b.c [as d], ...
  for (TokenRange item : view().split_top_level({range.begin + 1, range.end}, ",")) {
    std::string dotted;
    std::size_t pos = item.begin;
    for (; pos < item.end && (view().is_kind(pos, TokenKind::name) || view().is_op(pos, "."));
         ++pos) {
      if (view().is_name(pos, "as")) break;
      dotted += token(pos).text;
    }
    if (dotted.empty()) continue;
    const int line = token(item.begin).line;
    const ModuleRef leaf = find_absolute_module(dotted, line);
    if (pos + 1 < item.end && view().is_name(pos, "as")) {
      const std::string alias = token(pos + 1).text;
      record_assignment_in_function(scope, alias, line);
      bind(scope, module_binding(leaf, alias, line));
      continue;
    }
    const std::string top = dotted.substr(0, dotted.find('.'));
    record_assignment_in_function(scope, top, line);
    if (top == dotted) {
      bind(scope, module_binding(leaf, top, line));
    } else {
      if (!leaf.file.empty()) scan_module_file(leaf.file, line);
      bind(scope,
           module_binding(find_module(top, session_.paths().absolute_bases(top)), top, line));
    }
  }
}

void ModuleScanner::bind_from_import(const Scope& scope, TokenRange range) {
  // from [.]*dotted import (names | * | (names))
  std::size_t pos = range.begin + 1;
  int level = 0;
  for (; pos < range.end && (view().is_op(pos, ".") || view().is_op(pos, "...")); ++pos) {
    level += static_cast<int>(token(pos).text.size());
  }
  std::string dotted;
  for (; pos < range.end && !view().is_name(pos, "import"); ++pos) dotted += token(pos).text;
  if (pos >= range.end) {
    problem_at(range.begin, "invalid syntax: 'from' without 'import'",
               ScanProblem::Kind::syntax_error);
    return;
  }
  const int line = token(range.begin).line;
  std::vector<std::string> bases;
  std::string import_error;
  std::string shown = std::string(static_cast<std::size_t>(level), '.') + dotted;
  if (level > 0) {
    const ModulePaths::RelativeBase base = session_.paths().relative_base(path_, level);
    bases.push_back(base.folder);
    import_error = base.error;
  } else {
    bases = session_.paths().absolute_bases(dotted);
  }
  if (!import_error.empty()) {
    problem(line, token(range.begin).column, import_error + ": from " + shown + " import ...",
            ScanProblem::Kind::unresolved_import);
  }
  ModuleRef module{dotted, {}};
  if (!dotted.empty()) {
    module = level > 0 ? find_module(dotted, bases) : find_absolute_module(dotted, line);
  }
  const ModuleResult* scanned = module.file.empty() ? nullptr : scan_module_file(module.file, line);
  const std::string origin = "imported from " + shown;
  const TokenRange names = view().strip_enclosing({pos + 1, range.end}, "(", ")");

  if (names.size() == 1 && view().is_op(names.begin, "*")) {
    if (scanned == nullptr) {
      result_.scan.notes.push_back(
          {path_, line, "from " + shown + " import *: the names it binds are unknown"});
      result_.exports_unknown = true;
      return;
    }
    std::vector<std::string> exported;
    if (scanned->all_names) {
      exported = *scanned->all_names;
    } else {
      for (const auto& [name, binding] : scanned->scan.bindings) {
        if (!name.empty() && name[0] != '_' && binding.kind != BindingKind::deleted) {
          exported.push_back(name);
        }
      }
    }
    if (scanned->exports_unknown) result_.exports_unknown = true;
    for (const std::string& name : exported) {
      const HandlerBinding* found = scanned->scan.find(name);
      record_assignment_in_function(scope, name, line);
      if (found != nullptr && found->kind != BindingKind::deleted) {
        bind(scope, imported_copy(*found, name, line, origin + " (*)"));
      } else {
        bind(scope, unknown_binding(name, line, origin + " (*, listed in __all__)"));
      }
    }
    return;
  }

  for (TokenRange item : view().split_top_level(names, ",")) {
    if (item.empty() || !view().is_kind(item.begin, TokenKind::name)) continue;
    const std::string name = token(item.begin).text;
    std::string bound_as = name;
    if (item.size() == 3 && view().is_name(item.begin + 1, "as")) {
      bound_as = token(item.begin + 2).text;
    }
    record_assignment_in_function(scope, bound_as, line);
    const HandlerBinding* found = scanned == nullptr ? nullptr : scanned->scan.find(name);
    if (found != nullptr && found->kind != BindingKind::deleted) {
      bind(scope, imported_copy(*found, bound_as, line, origin));
      continue;
    }
    const std::string sub_dotted = dotted.empty() ? name : dotted + "." + name;
    const ModuleRef submodule = find_module(sub_dotted, bases);
    if (!submodule.file.empty()) {
      bind(scope, module_binding(submodule, bound_as, line));
      continue;
    }
    if (scanned != nullptr && !scanned->exports_unknown) {
      problem(line, token(item.begin).column,
              "cannot import name '" + name + "' from '" + shown + "' (" + module.file + ")",
              ScanProblem::Kind::unresolved_import);
      continue;
    }
    if (module.file.empty() && level > 0 && import_error.empty()) {
      problem(line, token(range.begin).column, "No module named '" + shown + "' in the archive",
              ScanProblem::Kind::unresolved_import);
      continue;
    }
    bind(scope, unknown_binding(bound_as, line,
                                origin + (module.file.empty() ? " (not in the archive)" : "")));
  }
}

void ModuleScanner::bind_delete(const Scope& scope, TokenRange range) {
  TokenRange targets{range.begin + 1, range.end};
  targets = view().strip_enclosing(view().strip_enclosing(targets, "(", ")"), "[", "]");
  for (TokenRange target : view().split_top_level(targets, ",")) {
    if (target.size() != 1 || !view().is_kind(target.begin, TokenKind::name)) continue;
    const std::string& name = token(target.begin).text;
    record_assignment_in_function(scope, name, token(target.begin).line);
    HandlerBinding binding = binding_at(target.begin, name, BindingKind::deleted);
    binding.signature_known = false;
    binding.note = "deleted by `del` at line " + std::to_string(binding.line);
    bind(scope, std::move(binding));
  }
}

}  // namespace smpack::handler_scan_internal
