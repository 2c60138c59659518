// HandlerScan: the module-level bindings of a handler module, read statically.
#include "smpack/handler_scan.h"

#include <algorithm>
#include <memory>
#include <set>
#include <utility>

#include "python/constant_condition.h"
#include "python/handler_module_scanner.h"
#include "python/handler_signature.h"

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
  const std::optional<BindingKind> value = value_kind();
  return value == BindingKind::function || value == BindingKind::async_function ||
         value == BindingKind::lambda;
}

bool HandlerBinding::is_async() const {
  return value_kind() == BindingKind::async_function;
}

std::optional<bool> HandlerBinding::is_callable() const {
  if (!callable_known) return std::nullopt;
  const std::optional<BindingKind> value = value_kind();
  if (!value) return std::nullopt;
  return is_function() || value == BindingKind::class_object;
}

namespace handler_scan_internal {
namespace {

bool is_handler_name(std::string_view name) {
  return std::find(kHandlerNames.begin(), kHandlerNames.end(), name) != kHandlerNames.end() ||
         std::find(kTfServingHandlerNames.begin(), kTfServingHandlerNames.end(), name) !=
             kTfServingHandlerNames.end();
}

// Decorators that keep inspect.signature (they set __wrapped__ or return the function).
bool is_signature_preserving_decorator(std::string_view dotted) {
  static constexpr std::array<std::string_view, 13> kPreserving = {"staticmethod",
                                                                   "functools.lru_cache",
                                                                   "lru_cache",
                                                                   "functools.cache",
                                                                   "cache",
                                                                   "functools.cached_property",
                                                                   "torch.no_grad",
                                                                   "torch.inference_mode",
                                                                   "torch.enable_grad",
                                                                   "contextlib.contextmanager",
                                                                   "contextmanager",
                                                                   "typing.no_type_check",
                                                                   "no_type_check"};
  return std::find(kPreserving.begin(), kPreserving.end(), dotted) != kPreserving.end();
}

std::string_view last_component(std::string_view dotted) {
  const std::size_t dot = dotted.rfind('.');
  return dot == std::string_view::npos ? dotted : dotted.substr(dot + 1);
}

}  // namespace

ModuleResult ModuleScanner::run() {
  result_.scan.file = path_;
  const HandlerScanLimits& limits = session_.limits();
  if (source_.size() > limits.max_source_bytes) {
    problem(1, 1,
            "module is " + std::to_string(source_.size()) + " bytes, over the " +
                std::to_string(limits.max_source_bytes) + "-byte cap",
            ScanProblem::Kind::limit_exceeded);
    return std::move(result_);
  }
  TokenizeLimits tokenize_limits;
  tokenize_limits.max_tokens = limits.max_tokens;
  tokenize_limits.max_bracket_depth = std::min(limits.max_nesting, 200);
  tokenize_limits.max_indent_depth = std::min(limits.max_nesting, 100);
  TokenizeResult tokenized = tokenize_python(source_, tokenize_limits);
  tokens_ = std::move(tokenized.tokens);
  view_ = std::make_unique<TokenView>(tokens_);
  PyModuleStructure structure = parse_python_structure(tokens_);
  walk(structure.statements, Scope{});

  if (tokenized.error) {
    const TokenizeError& error = *tokenized.error;
    const ScanProblem::Kind kind =
        error.kind == TokenizeErrorKind::python2_syntax   ? ScanProblem::Kind::python2_syntax
        : error.kind == TokenizeErrorKind::limit_exceeded ? ScanProblem::Kind::limit_exceeded
                                                          : ScanProblem::Kind::syntax_error;
    problem(error.line, error.column, error.message, kind);
  } else if (structure.error) {
    problem(structure.error->line, structure.error->column, structure.error->message,
            ScanProblem::Kind::syntax_error);
  }

  for (const auto& [name, where] : global_assignments_) {
    auto it = result_.scan.bindings.find(name);
    if (it == result_.scan.bindings.end()) {
      HandlerBinding binding;
      binding.name = name;
      binding.file = path_;
      binding.kind = BindingKind::other_value;
      binding.callable_known = false;
      binding.signature_known = false;
      binding.conditional = true;
      binding.note = "bound only by `global " + name + "` in " + where +
                     "; it exists only if that function runs";
      result_.scan.bindings.emplace(name, std::move(binding));
    } else {
      HandlerBinding& binding = it->second;
      binding.callable_known = false;
      binding.signature_known = false;
      binding.note += std::string(binding.note.empty() ? "" : "; ") + "may be rebound by `global " +
                      name + "` in " + where;
    }
  }
  // A def under a class or function does not count when the module binds the name anyway.
  std::erase_if(result_.scan.nested, [&](const NestedDefinition& nested) {
    const HandlerBinding* binding = result_.scan.find(nested.name);
    return binding != nullptr && binding->kind != BindingKind::deleted;
  });
  std::stable_sort(result_.scan.problems.begin(), result_.scan.problems.end(),
                   [](const ScanProblem& a, const ScanProblem& b) {
                     return std::tie(a.file, a.line, a.column) < std::tie(b.file, b.line, b.column);
                   });
  return std::move(result_);
}

void ModuleScanner::walk(const std::vector<PyStatement>& statements, const Scope& scope) {
  std::vector<Decorator> decorators;
  BranchChain chain;
  for (const PyStatement& statement : statements) {
    if (statement.tokens.empty()) continue;
    if (!statement.compound) {
      if (view().is_op(statement.tokens.begin, "@")) {
        decorators.push_back(parse_decorator(statement.tokens));
        continue;
      }
      decorators.clear();
      chain = BranchChain{};
      walk_simple(statement, scope);
      continue;
    }
    walk_compound(statement, scope, decorators, chain);
    decorators.clear();
  }
}

namespace {
bool is_main_guard(const TokenView& view, TokenRange header) {
  // if __name__ == "__main__"   /   if "__main__" == __name__
  if (header.size() != 4) return false;
  const std::size_t a = header.begin + 1;
  const std::size_t b = header.begin + 3;
  if (!view.is_op(header.begin + 2, "==")) return false;
  const auto is_main_string = [&](std::size_t i) {
    return view.is_kind(i, TokenKind::string) && string_token_body(view.at(i).text) == "__main__" &&
           view.at(i).text.find_first_of("bBfF") == std::string::npos;
  };
  return (view.is_name(a, "__name__") && is_main_string(b)) ||
         (view.is_name(b, "__name__") && is_main_string(a));
}

}  // namespace

void ModuleScanner::walk_compound(const PyStatement& statement, const Scope& scope,
                                  std::vector<Decorator>& decorators, BranchChain& chain) {
  const TokenRange header = statement.tokens;
  const Token& keyword = token(header.begin);
  const bool is_async = keyword.text == "async";
  const std::string_view word = is_async && header.size() > 1
                                    ? std::string_view(token(header.begin + 1).text)
                                    : std::string_view(keyword.text);
  const bool continues_if =
      (word == "elif" || word == "else") && chain.state != BranchChain::State::none;
  const bool continues_try = word == "except" || word == "else" || word == "finally";
  if (!continues_if) chain.state = BranchChain::State::none;
  if (!continues_try) chain.try_bound.clear();
  if (word == "def") {
    walk_def(statement, scope, decorators);
    return;
  }
  if (word == "class") {
    walk_class(statement, scope, decorators);
    return;
  }
  if (!decorators.empty()) {
    problem_at(header.begin, "invalid syntax: a decorator must precede def or class",
               ScanProblem::Kind::syntax_error);
  }
  Scope body_scope = scope;
  const std::string branch = "'" + std::string(word) + "' at line " + std::to_string(keyword.line);
  using State = BranchChain::State;
  if (word == "if" && is_main_guard(view(), header)) {
    chain.state = State::runtime;  // its elif/else run on import
    if (scope.module_level) {
      body_scope.module_level = false;
      body_scope.runs_on_import = false;
      body_scope.container = "if __name__ == \"__main__\"";
    }
  } else if (word == "if" || (word == "elif" && continues_if)) {
    // A condition the same on every Python 3.8+ decides the branch: the others never run.
    if (word == "if") chain.state = State::open;
    const auto value = chain.state == State::taken
                           ? std::optional<bool>(false)
                           : constant_condition(view(), {header.begin + 1, header.end});
    if (value == false) {
      body_scope.dead = true;
    } else {
      if (!(value == true && chain.state == State::open) && scope.module_level)
        body_scope.branch = branch;
      chain.state = value == true ? State::taken : State::runtime;
    }
  } else if (word == "else" && continues_if) {
    if (chain.state == State::taken) {
      body_scope.dead = true;
    } else if (chain.state == State::runtime && scope.module_level) {
      body_scope.branch = branch;
    }
    chain.state = State::none;
  } else if (word == "finally" || word == "with") {
    // Both bodies run whenever the statement does.
  } else if (scope.module_level) {
    body_scope.branch = branch;
    if (word == "except") body_scope.fallback_for = &chain.try_bound;
  }

  const std::size_t first = header.begin + (is_async ? 2 : 1);
  if (word == "for") {
    // for TARGETS in ITER:
    const std::vector<std::size_t> ins = [&] {
      std::vector<std::size_t> found;
      for (std::size_t i = first; i < header.end; ++i) {
        if (view().is_name(i, "in")) {
          found.push_back(i);
          break;
        }
      }
      return found;
    }();
    if (!ins.empty()) {
      bind_unknown_target_names(body_scope, {first, ins.front()}, keyword.line,
                                "loop variable of 'for' at line " + std::to_string(keyword.line));
    }
  } else if (word == "with") {
    for (TokenRange item : view().split_top_level({first, header.end}, ",")) {
      item = view().strip_enclosing(item, "(", ")");
      for (TokenRange inner : view().split_top_level(item, ",")) {
        for (std::size_t i = inner.begin; i < inner.end; ++i) {
          if (view().is_name(i, "as")) {
            bind_unknown_target_names(
                body_scope, {i + 1, inner.end}, keyword.line,
                "bound by 'with ... as' at line " + std::to_string(keyword.line));
            break;
          }
        }
      }
    }
  } else if (word == "except") {
    std::size_t end = header.end;
    for (std::size_t i = first; i < header.end; ++i) {
      if (view().is_name(i, "as")) end = i;
    }
    if (view().is_op(first, "*")) {
      // except* (3.11): a group of exception types.
    } else if (view().find_first_top_level({first, end}, ",") != end) {
      problem_at(view().find_first_top_level({first, end}, ","),
                 "`except X, e:` is Python 2 syntax; use `except X as e:` (multiple exception "
                 "types must be parenthesized)",
                 ScanProblem::Kind::python2_syntax);
    }
  }
  // What a try body binds, its except clauses only fall back to.
  std::map<std::string, int> before;
  if (word == "try") {
    for (const auto& [name, binding] : result_.scan.bindings) before[name] = binding.line;
  }
  walk(statement.body, body_scope);
  if (word == "try") {
    for (const auto& [name, binding] : result_.scan.bindings) {
      auto it = before.find(name);
      if (it == before.end() || it->second != binding.line) chain.try_bound.insert(name);
    }
  }
}

Decorator ModuleScanner::parse_decorator(TokenRange range) const {
  Decorator decorator;
  decorator.line = token(range.begin).line;
  std::size_t pos = range.begin + 1;
  while (pos < range.end && view().is_kind(pos, TokenKind::name)) {
    decorator.dotted += token(pos).text;
    ++pos;
    if (pos < range.end && view().is_op(pos, ".")) {
      decorator.dotted += '.';
      ++pos;
    } else {
      break;
    }
  }
  if (pos < range.end && view().is_op(pos, "(")) {
    decorator.called = true;
    const std::size_t close = view().matching_bracket(pos, range.end);
    if (close == pos + 2 && view().is_kind(pos + 1, TokenKind::name)) {
      decorator.first_argument = token(pos + 1).text;
    }
    pos = close == std::string_view::npos ? range.end : close + 1;
  }
  if (pos != range.end) decorator.dotted = std::string(source_.empty() ? "" : "<expression>");
  return decorator;
}

HandlerBinding ModuleScanner::binding_at(std::size_t token_index, std::string name,
                                         BindingKind kind) const {
  HandlerBinding binding;
  binding.name = std::move(name);
  binding.file = path_;
  binding.line = token(token_index).line;
  binding.kind = kind;
  return binding;
}

void ModuleScanner::apply_decorators(HandlerBinding& binding,
                                     const std::vector<Decorator>& decorators) const {
  // Decorators apply bottom-up; each must keep the signature for it to stay known.
  for (auto it = decorators.rbegin(); it != decorators.rend(); ++it) {
    const Decorator& decorator = *it;
    binding.decorators.insert(binding.decorators.begin(), decorator.dotted);
    std::string effect;
    if (last_component(decorator.dotted) == "wraps" && decorator.called) {
      // @functools.wraps(target): inspect.signature follows __wrapped__ to target.
      const HandlerBinding* target = result_.scan.find(decorator.first_argument);
      if (target != nullptr && target->is_function() && target->signature_known) {
        binding.parameters = target->parameters;
        binding.params = target->params;
        effect = "signature of " + decorator.first_argument + " through functools.wraps";
      } else {
        binding.signature_known = false;
        effect = "signature from functools.wraps of an unknown target";
      }
    } else if (is_signature_preserving_decorator(decorator.dotted)) {
      effect = "keeps the signature";
    } else if (auto traits = traits_.find(decorator.dotted);
               traits != traits_.end() &&
               (traits->second.uses_wraps ||
                (decorator.called ? traits->second.inner_returns_its_argument
                                  : traits->second.returns_its_argument))) {
      effect = traits->second.uses_wraps ? "keeps the signature (functools.wraps)"
                                         : "keeps the signature (returns the function)";
    } else {
      binding.signature_known = false;
      binding.callable_known = false;
      effect = "unknown decorator: the signature and the value may change";
    }
    binding.note += std::string(binding.note.empty() ? "" : "; ") + "decorated by " +
                    decorator.dotted + " (" + effect + ")";
  }
  if (!binding.signature_known) binding.params.reset();
}

void ModuleScanner::walk_def(const PyStatement& statement, const Scope& scope,
                             const std::vector<Decorator>& decorators) {
  const TokenRange header = statement.tokens;
  const bool is_async = view().is_name(header.begin, "async");
  const std::size_t name_at = header.begin + (is_async ? 2 : 1);
  if (!view().is_kind(name_at, TokenKind::name) || !view().is_op(name_at + 1, "(")) {
    problem_at(std::min(name_at, header.end - 1), "invalid syntax: expected a function name",
               ScanProblem::Kind::syntax_error);
    return;
  }
  const std::string name = token(name_at).text;
  const std::size_t close = view().matching_bracket(name_at + 1, header.end);
  ParsedParameters parsed;
  if (close == std::string_view::npos) {
    parsed.error = "invalid syntax: unclosed parameter list";
  } else {
    parsed = parse_parameters(view(), {name_at + 2, close}, ParameterListSyntax::def);
    if (close + 1 < header.end && !view().is_op(close + 1, "->")) {
      parsed.error = "invalid syntax after the parameter list";
      parsed.error_line = token(close + 1).line;
      parsed.error_column = token(close + 1).column;
    }
  }
  if (!parsed.error.empty()) {
    problem(parsed.error_line ? parsed.error_line : token(name_at).line,
            parsed.error_line ? parsed.error_column : token(name_at).column, parsed.error,
            parsed.python2 ? ScanProblem::Kind::python2_syntax : ScanProblem::Kind::syntax_error);
  }

  FunctionBody body;
  body.name = name;
  if (!parsed.parameters.empty()) body.first_parameter = parsed.parameters.front().name;
  Scope body_scope;
  body_scope.module_level = false;
  body_scope.runs_on_import = false;
  body_scope.container = "def " + name;
  body_scope.function = &body;
  walk(statement.body, body_scope);

  if (scope.function != nullptr) {
    for (const Decorator& decorator : decorators) {
      if (last_component(decorator.dotted) == "wraps") scope.function->traits.uses_wraps = true;
    }
    if (body.traits.returns_its_argument) scope.function->traits.inner_returns_its_argument = true;
    if (body.traits.uses_wraps) scope.function->traits.uses_wraps = true;
  }
  if (!scope.module_level) {
    if (is_handler_name(name)) {
      result_.scan.nested.push_back({name, token(name_at).line, scope.container});
    }
    record_assignment_in_function(scope, name, token(name_at).line);
    return;
  }
  HandlerBinding binding =
      binding_at(name_at, name, is_async ? BindingKind::async_function : BindingKind::function);
  binding.line = token(header.begin).line;
  if (parsed.error.empty()) {
    binding.parameters = std::move(parsed.parameters);
    binding.params = static_cast<int>(binding.parameters.size());
  } else {
    binding.signature_known = false;
  }
  apply_decorators(binding, decorators);
  bind(scope, std::move(binding));
  traits_[name] = body.traits;
}

void ModuleScanner::walk_class(const PyStatement& statement, const Scope& scope,
                               const std::vector<Decorator>& decorators) {
  const TokenRange header = statement.tokens;
  const std::size_t name_at = header.begin + 1;
  if (!view().is_kind(name_at, TokenKind::name)) {
    problem_at(std::min(name_at, header.end - 1), "invalid syntax: expected a class name",
               ScanProblem::Kind::syntax_error);
    return;
  }
  const std::string name = token(name_at).text;
  Scope body_scope;
  body_scope.module_level = false;
  body_scope.runs_on_import = scope.runs_on_import;
  body_scope.container = "class " + name;
  body_scope.function = scope.function;
  walk(statement.body, body_scope);
  if (!scope.module_level) {
    record_assignment_in_function(scope, name, token(name_at).line);
    return;
  }
  HandlerBinding binding = binding_at(header.begin, name, BindingKind::class_object);
  // inspect.signature(cls) of a plain class: __new__ or else __init__ without its first
  // parameter, or () with neither. Bases and metaclasses may change it.
  const bool plain = name_at + 1 == header.end ||
                     (view().is_op(name_at + 1, "(") &&
                      (name_at + 3 == header.end ||
                       (name_at + 4 == header.end && view().is_name(name_at + 2, "object"))));
  const PyStatement* constructor = nullptr;
  for (const char* method : {"__init__", "__new__"}) {
    for (const PyStatement& member : statement.body) {
      if (member.compound && view().is_name(member.tokens.begin, "def") &&
          view().is_name(member.tokens.begin + 1, method)) {
        constructor = &member;
      }
    }
  }
  binding.signature_known = plain && decorators.empty();
  if (binding.signature_known && constructor != nullptr) {
    const TokenRange ctor = constructor->tokens;
    const std::size_t close = view().matching_bracket(ctor.begin + 2, ctor.end);
    ParsedParameters parsed =
        close == std::string_view::npos
            ? ParsedParameters{{}, "unclosed", false, 0, 0}
            : parse_parameters(view(), {ctor.begin + 3, close}, ParameterListSyntax::def);
    if (!parsed.error.empty() || parsed.parameters.empty() ||
        parsed.parameters.front().kind == Parameter::Kind::var_positional) {
      binding.signature_known = false;
    } else {
      binding.parameters.assign(parsed.parameters.begin() + 1, parsed.parameters.end());
    }
  }
  if (binding.signature_known) binding.params = static_cast<int>(binding.parameters.size());
  if (!decorators.empty()) apply_decorators(binding, decorators);
  bind(scope, std::move(binding));
}

void ModuleScanner::bind(const Scope& scope, HandlerBinding binding) {
  if (!scope.module_level || scope.dead) return;
  auto& bindings = result_.scan.bindings;
  auto previous = bindings.find(binding.name);
  if (scope.fallback_for && scope.fallback_for->count(binding.name) && previous != bindings.end()) {
    // The try body's binding is what runs when its imports succeed; this one only then.
    previous->second.note +=
        "; if the try at line " + std::to_string(previous->second.line) +
        " fails, the except clause binds it at line " + std::to_string(binding.line) +
        (binding.params ? " (" + std::to_string(*binding.params) + " parameter(s))"
                        : std::string());
    return;
  }
  traits_.erase(binding.name);
  if (!scope.branch.empty()) {
    binding.conditional = true;
    binding.note += std::string(binding.note.empty() ? "" : "; ") + "bound inside " + scope.branch +
                    " (assumed to run; the last binding in source order wins)";
  } else if (previous != bindings.end() && previous->second.conditional &&
             previous->second.kind != BindingKind::deleted) {
    binding.conditional = false;  // an unconditional binding settles it
  }
  if (previous != bindings.end() && previous->second.conditional && !scope.branch.empty() &&
      previous->second.kind != BindingKind::deleted) {
    const HandlerBinding& earlier = previous->second;
    binding.note += "; also bound at line " + std::to_string(earlier.line) +
                    (earlier.params ? " (" + std::to_string(*earlier.params) + " parameter(s))"
                                    : std::string()) +
                    ": which one runs depends on a condition decided at run time";
    binding.alternatives = earlier.alternatives;
    binding.alternatives.emplace_back(earlier.line, earlier.params);
  }
  bindings.insert_or_assign(binding.name, std::move(binding));
}

void ModuleScanner::record_assignment_in_function(const Scope& scope, const std::string& name,
                                                  int line) {
  if (scope.function == nullptr || scope.function->globals.count(name) == 0) return;
  global_assignments_.emplace_back(
      name, "def " + scope.function->name + " (line " + std::to_string(line) + ")");
}

void ModuleScanner::check_python2_statement(TokenRange range) {
  const Token& first = token(range.begin);
  if (first.kind != TokenKind::name || range.size() < 2) return;
  if (first.text == "print" || first.text == "exec") {
    const Token& next = token(range.begin + 1);
    static constexpr std::array<std::string_view, 9> kOperatorWords = {
        "if", "else", "and", "or", "not", "in", "is", "for", "async"};
    const bool starts_operand =
        next.kind == TokenKind::string || next.kind == TokenKind::number ||
        (next.kind == TokenKind::name && std::find(kOperatorWords.begin(), kOperatorWords.end(),
                                                   next.text) == kOperatorWords.end());
    if (starts_operand) {
      problem(first.line, first.column,
              "Missing parentheses in call to '" + first.text + "'. Did you mean " + first.text +
                  "(...)? (Python 2 statement)",
              ScanProblem::Kind::python2_syntax);
    }
  } else if (first.text == "raise") {
    const std::size_t comma = view().find_first_top_level(range, ",");
    if (comma != range.end) {
      problem_at(comma, "`raise E, message` is Python 2 syntax; use `raise E(message)`",
                 ScanProblem::Kind::python2_syntax);
    }
  }
}

void ModuleScanner::walk_simple(const PyStatement& statement, const Scope& scope) {
  const TokenRange range = statement.tokens;
  check_python2_statement(range);
  const Token& first = token(range.begin);
  if (first.kind == TokenKind::name) {
    if ((first.text == "import" || first.text == "from") && !scope.runs_on_import) {
      // Imported when the function runs, not at import: only `global` names matter here.
      for (std::size_t i = range.begin + 1; i < range.end; ++i) {
        if (view().is_kind(i, TokenKind::name)) {
          record_assignment_in_function(scope, token(i).text, first.line);
        }
      }
      return;
    }
    if (first.text == "import") return bind_import(scope, range);
    if (first.text == "from") return bind_from_import(scope, range);
    if (first.text == "del") return bind_delete(scope, range);
    if (first.text == "global" || first.text == "nonlocal") {
      if (scope.function != nullptr && first.text == "global") {
        for (std::size_t i = range.begin + 1; i < range.end; ++i) {
          if (view().is_kind(i, TokenKind::name)) scope.function->globals.insert(token(i).text);
        }
      }
      return;
    }
    if (first.text == "return") {
      if (scope.function != nullptr && range.size() == 2 &&
          view().is_name(range.begin + 1, scope.function->first_parameter) &&
          !scope.function->first_parameter.empty()) {
        scope.function->traits.returns_its_argument = true;
      }
      return;
    }
    static constexpr std::array<std::string_view, 8> kNoBinding = {
        "pass", "break", "continue", "raise", "assert", "yield", "await", "nonlocal"};
    if (std::find(kNoBinding.begin(), kNoBinding.end(), first.text) != kNoBinding.end()) return;
  }
  // Assignment forms: a = b = value; a: T = value; a += value; plain expressions.
  static constexpr std::array<std::string_view, 13> kAugmented = {
      "+=", "-=", "*=", "/=", "//=", "%=", "**=", ">>=", "<<=", "&=", "^=", "|=", "@="};
  for (std::string_view op : kAugmented) {
    const std::size_t at = view().find_first_top_level(range, op);
    if (at != range.end) {
      record_all_names({range.begin, at}, {at + 1, range.end}, /*augmented=*/true);
      if (at == range.begin + 1 && view().is_kind(range.begin, TokenKind::name) &&
          result_.scan.find(first.text) != nullptr) {
        HandlerBinding binding = binding_at(range.begin, first.text, BindingKind::other_value);
        binding.callable_known = false;
        binding.signature_known = false;
        binding.note = "changed by augmented assignment";
        bind(scope, std::move(binding));
      }
      if (at == range.begin + 1) record_assignment_in_function(scope, first.text, first.line);
      return;
    }
  }
  const std::vector<std::size_t> equals = view().find_top_level(range, "=");
  const std::size_t annotation_colon =
      view().find_first_top_level({range.begin, equals.empty() ? range.end : equals.front()}, ":");
  if (annotation_colon != (equals.empty() ? range.end : equals.front())) {
    // NAME: annotation [= value]; without a value nothing is bound.
    if (equals.empty()) return;
    const TokenRange value{equals.front() + 1, range.end};
    bind_targets(scope, {range.begin, annotation_colon}, value, first.line);
    return;
  }
  if (equals.empty()) {
    // An expression statement: only `globals()["name"] = ...`-free walrus binds here.
    for (std::size_t i = range.begin; i + 1 < range.end; ++i) {
      if (view().is_op(i + 1, ":=") && view().is_kind(i, TokenKind::name)) {
        bind_unknown_target_names(scope, {i, i + 1}, first.line,
                                  "bound by ':=' at line " + std::to_string(token(i).line));
      }
    }
    return;
  }
  const TokenRange value{equals.back() + 1, range.end};
  std::size_t target_begin = range.begin;
  for (std::size_t at : equals) {
    bind_targets(scope, {target_begin, at}, value, first.line);
    target_begin = at + 1;
  }
}

void ModuleScanner::bind_unknown_target_names(const Scope& scope, TokenRange targets, int line,
                                              const std::string& note) {
  targets = view().strip_enclosing(targets, "(", ")");
  targets = view().strip_enclosing(targets, "[", "]");
  for (TokenRange target : view().split_top_level(targets, ",")) {
    if (target.empty()) continue;
    if (view().is_op(target.begin, "*")) ++target.begin;
    if (target.size() == 1 && view().is_kind(target.begin, TokenKind::name)) {
      HandlerBinding binding =
          binding_at(target.begin, token(target.begin).text, BindingKind::other_value);
      binding.line = line;
      binding.callable_known = false;
      binding.signature_known = false;
      binding.note = note;
      record_assignment_in_function(scope, binding.name, line);
      bind(scope, std::move(binding));
    } else {
      // (a, b) or [a, b] nested in the targets; anything else (attributes, calls) binds
      // no module name. Each level strips one pair of brackets, so recursion is bounded.
      const TokenRange inner =
          view().strip_enclosing(view().strip_enclosing(target, "(", ")"), "[", "]");
      if (inner.size() < target.size()) bind_unknown_target_names(scope, inner, line, note);
    }
  }
}

void ModuleScanner::bind_targets(const Scope& scope, TokenRange targets,
                                 std::optional<TokenRange> value, int line) {
  if (targets.empty()) return;
  if (value) record_all_names(targets, *value, /*augmented=*/false);
  // globals()["name"] = value binds a module attribute as well.
  if (targets.size() == 6 && view().is_name(targets.begin, "globals") &&
      view().is_op(targets.begin + 1, "(") && view().is_op(targets.begin + 2, ")") &&
      view().is_op(targets.begin + 3, "[") &&
      view().is_kind(targets.begin + 4, TokenKind::string) &&
      view().is_op(targets.begin + 5, "]") && value) {
    const std::string name(string_token_body(token(targets.begin + 4).text));
    HandlerBinding binding = classify_value(*value, name, line);
    binding.note += std::string(binding.note.empty() ? "" : "; ") + "bound through globals()";
    bind(scope, std::move(binding));
    return;
  }
  const TokenRange inner =
      view().strip_enclosing(view().strip_enclosing(targets, "(", ")"), "[", "]");
  const std::vector<TokenRange> target_items = view().split_top_level(inner, ",");
  const bool is_tuple_target = target_items.size() > 1 || inner.size() != targets.size() ||
                               view().find_first_top_level(targets, ",") != targets.end;
  if (!is_tuple_target) {
    if (targets.size() == 1 && view().is_kind(targets.begin, TokenKind::name)) {
      const std::string& name = token(targets.begin).text;
      record_assignment_in_function(scope, name, line);
      if (scope.module_level && value) bind(scope, classify_value(*value, name, line));
    }
    return;
  }
  // a, b = f, g: pair the items when both sides are plain tuples of the same length.
  std::vector<TokenRange> value_items;
  if (value) {
    const TokenRange value_inner = view().strip_enclosing(*value, "(", ")");
    value_items = view().split_top_level(value_inner, ",");
    if (value_items.size() == 1 && value_inner.size() == value->size()) value_items.clear();
  }
  const bool starred = std::any_of(target_items.begin(), target_items.end(), [&](TokenRange t) {
    return !t.empty() && view().is_op(t.begin, "*");
  });
  if (!starred && value_items.size() == target_items.size()) {
    for (std::size_t i = 0; i < target_items.size(); ++i) {
      bind_targets(scope, target_items[i], value_items[i], line);
    }
    return;
  }
  bind_unknown_target_names(scope, targets, line,
                            "unpacked from an expression at line " + std::to_string(line));
}

HandlerBinding ModuleScanner::classify_value(TokenRange value, std::string name, int line) {
  HandlerBinding binding;
  binding.name = std::move(name);
  binding.file = path_;
  binding.line = line;
  binding.kind = BindingKind::other_value;
  value = view().strip_enclosing(value, "(", ")");
  if (value.empty()) {
    binding.callable_known = false;
    return binding;
  }
  const Token& first = token(value.begin);
  if (value.size() == 1 && first.kind == TokenKind::name) {
    if (first.text == "None") {
      binding.kind = BindingKind::none_value;
      return binding;
    }
    if (first.text == "True" || first.text == "False") return binding;
    const HandlerBinding* target = result_.scan.find(first.text);
    binding.kind = BindingKind::alias;
    if (target == nullptr || target->kind == BindingKind::deleted) {
      binding.callable_known = false;
      binding.signature_known = false;
      binding.note = "alias of " + first.text + ", not bound in this module at this point " +
                     "(a builtin, or a NameError at import)";
      return binding;
    }
    binding.target_kind = target->value_kind();
    binding.params = target->params;
    binding.parameters = target->parameters;
    binding.decorators = target->decorators;
    binding.signature_known = target->signature_known;
    binding.callable_known = target->callable_known;
    binding.module_file = target->module_file;
    binding.module_name = target->module_name;
    binding.note = "alias of " + first.text + " (line " + std::to_string(target->line) + ")";
    if (!target->note.empty()) binding.note += "; " + target->note;
    return binding;
  }
  if (first.kind == TokenKind::name && first.text == "lambda") {
    // The lambda's own ':' is the first top-level one after `lambda`: find_top_level skips
    // the ':' of lambdas nested in its defaults.
    const std::size_t own_colon = view().find_first_top_level({value.begin + 1, value.end}, ":");
    ParsedParameters parsed =
        parse_parameters(view(), {value.begin + 1, own_colon}, ParameterListSyntax::lambda);
    binding.kind = BindingKind::lambda;
    if (parsed.error.empty() && own_colon < value.end) {
      binding.parameters = std::move(parsed.parameters);
      binding.params = static_cast<int>(binding.parameters.size());
    } else {
      binding.signature_known = false;
    }
    return binding;
  }
  const bool all_literals = std::all_of(
      tokens_.begin() + static_cast<std::ptrdiff_t>(value.begin),
      tokens_.begin() + static_cast<std::ptrdiff_t>(value.end),
      [](const Token& t) { return t.kind == TokenKind::string || t.kind == TokenKind::number; });
  if (all_literals) return binding;
  if ((view().is_op(value.begin, "[") || view().is_op(value.begin, "{")) &&
      view().matching_bracket(value.begin, value.end) == value.end - 1) {
    binding.note = "a list, dict or set";
    return binding;
  }
  // NAME(.NAME)*: an attribute of an imported module resolves through its scan.
  bool dotted = value.size() % 2 == 1;
  for (std::size_t i = value.begin; i < value.end && dotted; ++i) {
    dotted = (i - value.begin) % 2 == 0 ? view().is_kind(i, TokenKind::name) : view().is_op(i, ".");
  }
  if (dotted) {
    std::vector<std::string> attributes;
    for (std::size_t i = value.begin + 2; i < value.end; i += 2)
      attributes.push_back(token(i).text);
    const HandlerBinding* base = result_.scan.find(first.text);
    if (base != nullptr && !base->module_name.empty()) {
      HandlerBinding resolved = resolve_module_attribute(*base, attributes, line);
      resolved.name = binding.name;
      return resolved;
    }
  }
  binding.callable_known = false;
  binding.signature_known = false;
  // functools.partial(f, ...): inspect.signature drops what the partial binds, so the
  // count the toolkit sees is not f's.
  const bool partial =
      (view().is_name(value.begin, "partial") && view().is_op(value.begin + 1, "(")) ||
      (view().is_name(value.begin, "functools") && view().is_op(value.begin + 1, ".") &&
       view().is_name(value.begin + 2, "partial") && view().is_op(value.begin + 3, "("));
  binding.note = (partial ? "functools.partial(...) at line " : "value of an expression at line ") +
                 std::to_string(line);
  return binding;
}

}  // namespace handler_scan_internal

ModuleScan scan_handler_module(std::string_view path, std::string_view source,
                               const SourceLookup& sibling, const HandlerScanLimits& limits) {
  handler_scan_internal::ScanSession session(sibling, limits, path);
  return handler_scan_internal::ModuleScanner(session, std::string(path), source, 0).run().scan;
}

}  // namespace smpack
