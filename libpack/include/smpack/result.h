// Result<T>: the value of a fallible library call, or the Error that stopped it.
// Member names follow std::expected so the type can become an alias later.
// The library never prints or exits; callers decide what an Error means to a user.
#pragma once

#include <cassert>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace smpack {

// One kind per exit code of the CLI (see ErrorKind → exit code in tools/smpack).
enum class ErrorKind {
  usage,        // the caller asked for something impossible (bad option value, missing file name)
  bad_input,    // unreadable, corrupt or unsafe input
  io,           // the operating system refused a read or write
  interrupted,  // cancelled through a CancelToken
  internal,     // a bug in smpack or a dependency
};

// A remedy that names one of the call's own options. The library says it neutrally;
// each client spells the option its own way (the CLI as --force, Python as force=).
struct Hint {
  std::string option;  // kebab-case, as the CLI names it: "force", "framework-version"
  std::string action;  // what giving it does: "to replace it"
};

// "usage", "bad_input", "io", "interrupted", "internal".
constexpr std::string_view name_of(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::usage:
      return "usage";
    case ErrorKind::bad_input:
      return "bad_input";
    case ErrorKind::io:
      return "io";
    case ErrorKind::interrupted:
      return "interrupted";
    case ErrorKind::internal:
      break;
  }
  return "internal";
}

struct Error {
  ErrorKind kind = ErrorKind::internal;
  std::string message;
  std::optional<Hint> hint;
  // bad_input that is not damage: the readers users have would read these bytes
  // differently (lint's archive-ambiguous), so no reading goes past it.
  bool ambiguous = false;

  static Error usage(std::string m) {
    return {ErrorKind::usage, std::move(m), std::nullopt, false};
  }
  static Error bad_input(std::string m) {
    return {ErrorKind::bad_input, std::move(m), std::nullopt, false};
  }
  static Error ambiguous_input(std::string m) {
    return {ErrorKind::bad_input, std::move(m), std::nullopt, true};
  }
  static Error io(std::string m) { return {ErrorKind::io, std::move(m), std::nullopt, false}; }
  static Error interrupted() {
    return {ErrorKind::interrupted, "interrupted", std::nullopt, false};
  }
  static Error internal(std::string m) {
    return {ErrorKind::internal, std::move(m), std::nullopt, false};
  }

  Error with_hint(std::string option, std::string action) && {
    hint = Hint{std::move(option), std::move(action)};
    return std::move(*this);
  }

  // "context: message", so each level can say where the error happened.
  Error with_context(std::string_view context) && {
    message = std::string(context) + ": " + message;
    return std::move(*this);
  }
};

template <class T>
class [[nodiscard]] Result {
 public:
  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}

  bool has_value() const { return state_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  T& value() & { return checked_value(); }
  const T& value() const& { return const_cast<Result*>(this)->checked_value(); }
  T&& value() && { return std::move(checked_value()); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  template <class U>
  T value_or(U&& fallback) const& {
    return has_value() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

  const Error& error() const& {
    assert(!has_value());
    return std::get<1>(state_);
  }
  Error&& error() && {
    assert(!has_value());
    return std::get<1>(std::move(state_));
  }

 private:
  T& checked_value() {
    assert(has_value());
    return std::get<0>(state_);
  }
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), failed_(true) {}

  bool has_value() const { return !failed_; }
  explicit operator bool() const { return has_value(); }
  void value() const { assert(has_value()); }
  const Error& error() const& {
    assert(failed_);
    return error_;
  }
  Error&& error() && {
    assert(failed_);
    return std::move(error_);
  }

 private:
  Error error_;
  bool failed_ = false;
};

}  // namespace smpack
