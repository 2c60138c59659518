// HandlerScan: what a SageMaker handler module (code/inference.py) binds at module level,
// read statically the way CPython would bind it at import, without running it.
//
// The scanner tokenizes the module with a real Python tokenizer (python_tokenizer.h) and
// walks the statement structure far enough to know the final binding of every module
// attribute: def / async def / lambda / assignment / import / class / del, also inside
// top-level if / try / with / for / while bodies (assumed to run; the last binding in source
// order wins and the note says so), but not under `if __name__ == "__main__":`.
// Imports of sibling modules (`from .helpers import model_fn`, `import helpers` then
// `model_fn = helpers.model_fn`) are resolved through a SourceLookup, with cycle and depth
// guards. Parameter counts follow `inspect.signature`: defaulted parameters, *args and
// **kwargs count one each; the `/` and `*` markers do not.
//
// Failure: scanning never fails as a call. Syntax errors, Python 2 syntax, unresolvable
// imports and exceeded limits are ScanProblems in the result (with 1-based line and column);
// what was bound before the problem is still reported.
#pragma once

#include <array>
#include <cstddef>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace smpack {

enum class BindingKind {
  function,        // def
  async_function,  // async def (the toolkit calls handlers synchronously)
  lambda,          // name = lambda ...
  alias,           // name = other_name, resolved to what other_name was bound to
  imported,        // from/import, resolved through the sibling lookup when possible
  class_object,    // class Name: ... (callable; its signature is the constructor's)
  other_value,     // any other expression: a call result, a literal, an attribute
  none_value,      // name = None
  deleted,         // del name (the attribute no longer exists)
};

struct Parameter {
  enum class Kind {
    positional_only,
    positional_or_keyword,
    var_positional,
    keyword_only,
    var_keyword
  };
  std::string name;
  Kind kind = Kind::positional_or_keyword;
  bool has_default = false;
};

struct HandlerBinding {
  std::string name;  // the module attribute name (NFKC-normalised, e.g. "model_fn")
  std::string file;  // file where the binding statement is, e.g. "code/inference.py"
  int line = 0;      // 1-based line of the def/assignment/import
  BindingKind kind = BindingKind::other_value;
  // For alias and imported bindings: the kind of what was finally resolved (function,
  // async_function, lambda, class_object, ...), or nullopt when it could not be resolved.
  std::optional<BindingKind> target_kind;
  std::optional<int> params;            // parameter count as inspect.signature counts it
  std::vector<Parameter> parameters;    // when known
  std::vector<std::string> decorators;  // dotted names as written
  bool signature_known = true;  // false when a decorator without functools.wraps (or unknown)
                                // may change it
  bool callable_known = true;   // false when we cannot tell whether the value is callable
  bool conditional = false;     // bound inside an if/try/for/while/with body at module level
  // Earlier bindings of the name under a condition decided at run time, any of which may
  // be the one that runs instead: (line, parameter count when known).
  std::vector<std::pair<int, std::optional<int>>> alternatives;
  std::string note;  // e.g. "alias of _predict", "imported from .helpers", "decorated by ..."
  // For a binding of a module object (`import x`, `from . import x`): its dotted name
  // relative to the import root ("helpers", "torch"), and its file when it is in the
  // archive ("code/helpers.py"; empty for modules outside it).
  std::string module_name;
  std::string module_file;

  // The kind of the value after following aliases and imports (kind itself otherwise);
  // nullopt when an alias or import could not be resolved.
  std::optional<BindingKind> value_kind() const;
  // True when the value is a def / async def / lambda (directly or through alias/import).
  bool is_function() const;
  // True when the value is an `async def` (the def's own async-ness; a decorator may wrap it).
  bool is_async() const;
  // Whether the value is callable; nullopt when unknowable statically (a call result, an
  // unresolved import, an unknown decorator).
  std::optional<bool> is_callable() const;
};

struct NestedDefinition {
  std::string name;
  int line = 0;
  std::string container;  // "class Handler", "def main", 'if __name__ == "__main__"'
};

struct ScanProblem {
  enum class Kind { syntax_error, python2_syntax, unresolved_import, limit_exceeded };
  std::string file;
  int line = 0;
  int column = 0;  // 1-based
  std::string message;
  Kind kind = Kind::syntax_error;
};

// Something that makes the bindings less certain without being an error, e.g.
// `from torch import *` (the names it binds are unknown).
struct ScanNote {
  std::string file;
  int line = 0;
  std::string message;
};

struct ModuleScan {
  std::string file;
  // EVERY module-level name bound by def/async def/lambda/assignment/import/class (final
  // binding after the whole module body), not only handlers; `deleted` entries record a
  // `del` that removed the name.
  std::map<std::string, HandlerBinding, std::less<>> bindings;
  // Functions whose names are handler names (kHandlerNames / kTfServingHandlerNames)
  // defined only inside classes, functions, or under `if __name__ == "__main__":`.
  std::vector<NestedDefinition> nested;
  std::vector<ScanProblem> problems;  // sorted by file, line, column
  std::vector<ScanNote> notes;

  // The final binding of `name`, or nullptr when the module does not bind it (a deleted
  // binding is returned: check kind == BindingKind::deleted).
  const HandlerBinding* find(std::string_view name) const;
};

inline constexpr std::array<std::string_view, 7> kHandlerNames = {
    "model_fn",     "input_fn",     "predict_fn",     "output_fn",
    "transform_fn", "pre_model_fn", "model_warmup_fn"};
inline constexpr std::array<std::string_view, 3> kTfServingHandlerNames = {
    "handler", "input_handler", "output_handler"};

// Caps on the work one scan may do; past any of them the scan stops with a
// ScanProblem of kind limit_exceeded and reports what it had bound so far.
struct HandlerScanLimits {
  std::size_t max_source_bytes = 16u << 20;  // one module
  std::size_t max_tokens = 4'000'000;        // one module
  int max_nesting = 200;                     // brackets + indentation levels
  int max_import_depth = 8;                  // chained sibling imports
  std::size_t max_files = 64;                // sibling modules read in one scan
};

// `sibling` returns the source of another file of the archive/directory by its path
// (e.g. "code/helpers.py"), or nullptr.
using SourceLookup = std::function<const std::string*(std::string_view path)>;

// Scans `source` (the file at `path`). Never throws for any input bytes.
ModuleScan scan_handler_module(std::string_view path, std::string_view source,
                               const SourceLookup& sibling, const HandlerScanLimits& limits = {});

}  // namespace smpack
