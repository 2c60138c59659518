// The module scanner behind scan_handler_module, shared by its source files:
// handler_scan.cpp walks statements and binds names; handler_imports.cpp resolves imports
// through the sibling lookup.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "python/handler_module_paths.h"
#include "python/python_statements.h"
#include "python/python_tokenizer.h"
#include "smpack/handler_scan.h"

namespace smpack::handler_scan_internal {

struct Decorator {
  std::string dotted;          // as written, without the call: "functools.lru_cache"
  bool called = false;         // @deco(...) rather than @deco
  std::string first_argument;  // @wraps(target): "target" when it is a plain name
  int line = 0;
};

// What a module-level def tells about using it as a decorator.
struct DecoratorTraits {
  bool uses_wraps = false;                  // a def inside it is decorated with (functools.)wraps
  bool returns_its_argument = false;        // `return fn` where fn is its first parameter
  bool inner_returns_its_argument = false;  // a def inside it does that (decorator factory)
};

// What a function body shows, found while walking it.
struct FunctionBody {
  std::string name;
  std::string first_parameter;
  std::set<std::string> globals;  // names declared `global`
  DecoratorTraits traits;
};

// One module's result plus what `from m import *` needs.
struct ModuleResult {
  ModuleScan scan;
  std::optional<std::vector<std::string>> all_names;  // a literal __all__
  bool exports_unknown = false;  // an unresolvable star import may bind more names
};

class ScanSession;

// Where a statement sits: at module level (perhaps in a branch that may not run) or
// nested inside a function, class or `if __name__ == "__main__":` body.
struct Scope {
  bool module_level = true;
  bool runs_on_import = true;  // module level, or a class body that runs at import
  std::string branch;          // non-empty at module level inside if/try/for/while: "if at line 3"
  std::string container;       // for nested scopes: "def main", "class Handler"
  FunctionBody* function = nullptr;  // the innermost function being walked, if any
  bool dead = false;  // a branch that never runs (if False, if TYPE_CHECKING, ...): binds nothing
  // In an except clause: the names its try body bound, which it only falls back to.
  const std::set<std::string>* fallback_for = nullptr;
};

// What the compound statements before this one in the same block leave for an
// elif/else or an except clause to know.
struct BranchChain {
  // The if/elif chain so far: none (not in one), open (every condition so far constant
  // false), taken (a constant-true branch ran), runtime (decided at run time).
  enum class State { none, open, taken, runtime } state = State::none;
  std::set<std::string> try_bound;  // names the preceding try body bound
};

class ModuleScanner {
 public:
  ModuleScanner(ScanSession& session, std::string path, std::string_view source, int depth)
      : session_(session), path_(std::move(path)), source_(source), depth_(depth) {}

  ModuleResult run();

 private:
  void problem(int line, int column, std::string message, ScanProblem::Kind kind) {
    result_.scan.problems.push_back({path_, line, column, std::move(message), kind});
  }
  void problem_at(std::size_t token, std::string message, ScanProblem::Kind kind) {
    problem(view().at(token).line, view().at(token).column, std::move(message), kind);
  }
  const TokenView& view() const { return *view_; }
  const Token& token(std::size_t index) const { return tokens_[index]; }

  void walk(const std::vector<PyStatement>& statements, const Scope& scope);
  void walk_compound(const PyStatement& statement, const Scope& scope,
                     std::vector<Decorator>& decorators, BranchChain& chain);
  void walk_simple(const PyStatement& statement, const Scope& scope);
  void walk_def(const PyStatement& statement, const Scope& scope,
                const std::vector<Decorator>& decorators);
  void walk_class(const PyStatement& statement, const Scope& scope,
                  const std::vector<Decorator>& decorators);
  Decorator parse_decorator(TokenRange range) const;
  void check_python2_statement(TokenRange range);

  // Binding helpers.
  void bind(const Scope& scope, HandlerBinding binding);
  HandlerBinding binding_at(std::size_t token, std::string name, BindingKind kind) const;
  void apply_decorators(HandlerBinding& binding, const std::vector<Decorator>& decorators) const;
  void bind_targets(const Scope& scope, TokenRange targets, std::optional<TokenRange> value,
                    int line);
  void bind_unknown_target_names(const Scope& scope, TokenRange targets, int line,
                                 const std::string& note);
  HandlerBinding classify_value(TokenRange value, std::string name, int line);
  void bind_import(const Scope& scope, TokenRange range);
  void bind_from_import(const Scope& scope, TokenRange range);
  void bind_delete(const Scope& scope, TokenRange range);
  void record_assignment_in_function(const Scope& scope, const std::string& name, int line);
  void record_all_names(TokenRange targets, TokenRange value, bool augmented);

  // Import helpers.
  struct ModuleRef {
    std::string name;  // dotted, relative to the import root
    std::string file;  // empty when not in the archive
  };
  ModuleRef find_module(std::string_view dotted, const std::vector<std::string>& bases) const;
  ModuleRef find_absolute_module(std::string_view dotted, int line);
  const ModuleResult* scan_module_file(const std::string& file, int line);
  HandlerBinding module_binding(const ModuleRef& module, std::string name, int line);
  HandlerBinding imported_copy(const HandlerBinding& source, std::string name, int line,
                               const std::string& origin) const;
  HandlerBinding unknown_binding(std::string name, int line, std::string note) const;
  HandlerBinding resolve_module_attribute(const HandlerBinding& module,
                                          const std::vector<std::string>& attributes, int line);

  ScanSession& session_;
  std::string path_;
  std::string_view source_;
  int depth_ = 0;
  std::vector<Token> tokens_;
  std::unique_ptr<TokenView> view_;
  ModuleResult result_;
  std::map<std::string, DecoratorTraits, std::less<>> traits_;
  std::vector<std::pair<std::string, std::string>> global_assignments_;  // name, "def f line N"
};

// One scan_handler_module call: the sibling lookup, the caps, and the modules scanned so far
// (each file once; cycles are cut).
class ScanSession {
 public:
  ScanSession(const SourceLookup& sibling, const HandlerScanLimits& limits,
              std::string_view entry_path)
      : sibling_(sibling), limits_(limits), paths_(entry_path) {}

  const HandlerScanLimits& limits() const { return limits_; }
  const ModulePaths& paths() const { return paths_; }
  bool exists(const std::string& path) const { return sibling_ && sibling_(path) != nullptr; }

  // The scan of the archive file `path`, or nullptr with `why` set (import cycle, depth
  // or file cap). Problems it found are copied into `into`.
  const ModuleResult* scan_file(const std::string& path, int depth, std::string& why);

 private:
  const SourceLookup& sibling_;
  HandlerScanLimits limits_;
  ModulePaths paths_;
  std::map<std::string, std::unique_ptr<ModuleResult>> cache_;
  std::set<std::string> in_progress_;
};

}  // namespace smpack::handler_scan_internal
