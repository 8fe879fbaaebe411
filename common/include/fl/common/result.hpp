// Error values for expected failures (bad input, bad signature, corrupt file, peer gone).
// Result<T> holds either a T or an Error naming the problem and where it was found;
// Status is Result<void>. Exceptions are kept for programmer errors and start-up failures.
#pragma once

#include <cassert>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>

namespace fl {

enum class ErrorCode {
  kInvalidArgument,  // caller passed something malformed (config, CLI flag, input file)
  kNotFound,         // a file, key, account or record that should exist does not
  kCorrupt,          // stored or received bytes fail their own consistency checks
  kIo,               // the operating system refused (open, read, write, socket)
  kBadSignature,     // a signature does not verify against the claimed key
  kProtocol,         // a peer sent a message that breaks the wire protocol
  kLimitExceeded,    // a size, count or value limit was exceeded
  kPrecondition,     // the operation's preconditions do not hold (e.g. Krum with n < 2f+3)
  kUnavailable,      // a peer or resource is temporarily unavailable
  kTimeout,          // a deadline passed
  kAlreadyExists,    // a unique thing was created twice
  kInternal,         // a bug: an invariant of our own code broke
};

std::string_view to_string(ErrorCode code);

struct Error {
  ErrorCode code = ErrorCode::kInternal;
  std::string message;

  // "corrupt: block 7: merkle root mismatch"
  std::string to_string() const;
};

inline Error make_error(ErrorCode code, std::string message) {
  return Error{code, std::move(message)};
}

// Prefixes context to an error: with_context(e, "config job.toml") -> "config job.toml: <msg>".
inline Error with_context(Error error, std::string_view context) {
  error.message = std::string(context) + ": " + error.message;
  return error;
}

template <typename T>
class [[nodiscard]] Result {
 public:
  static_assert(!std::is_same_v<std::decay_t<T>, Error>, "Result<Error> is ambiguous");

  Result(T value) : state_(std::in_place_index<0>, std::move(value)) {}  // NOLINT
  Result(Error error) : state_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return state_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(state_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(state_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(state_));
  }
  const Error& error() const {
    assert(!ok());
    return std::get<1>(state_);
  }

  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  template <typename U>
  T value_or(U&& fallback) const& {
    return ok() ? value() : static_cast<T>(std::forward<U>(fallback));
  }

 private:
  std::variant<T, Error> state_;
};

template <>
class [[nodiscard]] Result<void> {
 public:
  Result() = default;
  Result(Error error) : error_(std::move(error)), ok_(false) {}  // NOLINT

  bool ok() const { return ok_; }
  explicit operator bool() const { return ok_; }
  const Error& error() const {
    assert(!ok_);
    return error_;
  }

 private:
  Error error_;
  bool ok_ = true;
};

using Status = Result<void>;

inline Status ok_status() { return Status(); }

}  // namespace fl

#define FL_CONCAT_INNER(a, b) a##b
#define FL_CONCAT(a, b) FL_CONCAT_INNER(a, b)

// Returns the error of a failed Status or Result from the enclosing function.
#define FL_RETURN_IF_ERROR(expr)                   \
  do {                                             \
    auto&& fl_status_ = (expr);                    \
    if (!fl_status_.ok()) return fl_status_.error(); \
  } while (0)

// FL_ASSIGN_OR_RETURN(auto key, load_key_file(path));
#define FL_ASSIGN_OR_RETURN(lhs, expr) \
  FL_ASSIGN_OR_RETURN_IMPL(FL_CONCAT(fl_result_, __LINE__), lhs, expr)
#define FL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.error();             \
  lhs = std::move(tmp).value()
