// Status and Result<T>: errors as values, carrying a code and a message.
//
// Every fallible operation in Sluice returns one of these instead of throwing,
// so that an I/O error or corrupt input always reaches the caller (and, later,
// the client as a Kafka error code) instead of being silently dropped.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "base/inline.h"

namespace sluice {

enum class StatusCode {
  kOk = 0,
  kNotFound,
  kCorruption,
  kInvalidArgument,
  kIOError,
  kNoSpace,          // ENOSPC / EDQUOT: the disk is full.
  kOutOfRange,       // An offset or position outside what exists.
  kAlreadyExists,
  kNotSupported,
  kAborted,          // The operation was cancelled (shutdown, closed log).
  kNotLeader,        // This replica does not lead the partition (any more).
};

std::string_view StatusCodeName(StatusCode code);

// One pointer: OK is null, so returning and testing an OK Status (once per
// field on the protocol decode path) costs a store and a compare; an error
// keeps its code and message on the heap, as LevelDB's Status does.
class [[nodiscard]] Status {
 public:
  Status() noexcept = default;  // OK.
  // Inline only the test: an OK Status (the common case, once per decoded
  // field) costs a compare even where the inliner has run out of budget.
  SLUICE_ALWAYS_INLINE ~Status() {
    if (rep_ != nullptr) [[unlikely]] Free(rep_);
  }
  Status(const Status& s) : rep_(s.rep_ == nullptr ? nullptr : new Rep(*s.rep_)) {}
  Status& operator=(const Status& s) {
    if (this != &s) {
      Status copy(s);
      std::swap(rep_, copy.rep_);
    }
    return *this;
  }
  Status(Status&& s) noexcept : rep_(std::exchange(s.rep_, nullptr)) {}
  Status& operator=(Status&& s) noexcept {
    if (this != &s) {
      if (rep_ != nullptr) Free(rep_);
      rep_ = std::exchange(s.rep_, nullptr);
    }
    return *this;
  }

  static Status Ok() { return Status(); }
  static Status NotFound(std::string msg) { return {StatusCode::kNotFound, std::move(msg)}; }
  static Status Corruption(std::string msg) { return {StatusCode::kCorruption, std::move(msg)}; }
  static Status InvalidArgument(std::string msg) {
    return {StatusCode::kInvalidArgument, std::move(msg)};
  }
  static Status IOError(std::string msg) { return {StatusCode::kIOError, std::move(msg)}; }
  static Status NoSpace(std::string msg) { return {StatusCode::kNoSpace, std::move(msg)}; }
  static Status OutOfRange(std::string msg) { return {StatusCode::kOutOfRange, std::move(msg)}; }
  static Status AlreadyExists(std::string msg) {
    return {StatusCode::kAlreadyExists, std::move(msg)};
  }
  static Status NotSupported(std::string msg) {
    return {StatusCode::kNotSupported, std::move(msg)};
  }
  static Status Aborted(std::string msg) { return {StatusCode::kAborted, std::move(msg)}; }
  static Status NotLeader(std::string msg) { return {StatusCode::kNotLeader, std::move(msg)}; }

  // Maps an errno from a failed system call on `what` (usually a path) to a
  // Status; ENOSPC and EDQUOT become kNoSpace.
  static Status FromErrno(int err, std::string_view what);

  bool ok() const { return rep_ == nullptr; }
  StatusCode code() const { return rep_ == nullptr ? StatusCode::kOk : rep_->code; }
  const std::string& message() const;  // Empty when OK.
  std::string ToString() const;

  bool IsNotFound() const { return code() == StatusCode::kNotFound; }
  bool IsCorruption() const { return code() == StatusCode::kCorruption; }
  bool IsIOError() const { return code() == StatusCode::kIOError; }
  bool IsNoSpace() const { return code() == StatusCode::kNoSpace; }
  bool IsOutOfRange() const { return code() == StatusCode::kOutOfRange; }
  bool IsAlreadyExists() const { return code() == StatusCode::kAlreadyExists; }

 private:
  struct Rep {
    StatusCode code;
    std::string message;
  };

  Status(StatusCode code, std::string msg) : rep_(new Rep{code, std::move(msg)}) {}
  [[gnu::cold, gnu::noinline]] static void Free(Rep* rep);

  Rep* rep_ = nullptr;
};

// A value or the Status that explains why there is none.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design.
  Result(Status status) : v_(std::move(status)) {}  // NOLINT: must not be OK.

  bool ok() const { return std::holds_alternative<T>(v_); }
  const Status& status() const {
    static const Status kOk;
    return ok() ? kOk : std::get<Status>(v_);
  }
  T& value() & { return std::get<T>(v_); }
  const T& value() const& { return std::get<T>(v_); }
  T&& value() && { return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace sluice

// Returns early from the enclosing function when `expr` yields a non-OK Status.
#define SLUICE_RETURN_IF_ERROR(expr)            \
  do {                                          \
    ::sluice::Status sluice_status_ = (expr);   \
    if (!sluice_status_.ok()) return sluice_status_; \
  } while (0)
