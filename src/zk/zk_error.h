// What a ZooKeeper call answered, kept as ZooKeeper's own code.
//
// The coordination logic above branches on exactly these outcomes (a node
// that is not there, a conditional write that lost its race, a session that
// is gone), so they are not folded into the broker's Status codes; ToStatus()
// makes one for callers that only report.
#pragma once

#include <optional>
#include <string>
#include <utility>

#include "base/status.h"

namespace sluice::zk {

enum class ZkCode {
  kOk,
  kNoNode,          // ZNONODE
  kNodeExists,      // ZNODEEXISTS
  kBadVersion,      // ZBADVERSION: a versioned write lost to another writer
  kNotEmpty,        // ZNOTEMPTY
  kConnectionLoss,  // ZCONNECTIONLOSS / ZOPERATIONTIMEOUT: outcome unknown, retry
  kSessionExpired,  // ZSESSIONEXPIRED / ZSESSIONMOVED: the session is over
  kClosed,          // the client was closed, or is closing
  kOther,           // anything else (bad arguments, marshalling, auth, ...)
};

// Maps a ZOO_ERRORS value (zookeeper.h) to its ZkCode.
ZkCode ZkCodeFromRc(int rc);
const char* ZkCodeName(ZkCode code);

class ZkError {
 public:
  ZkError() = default;  // OK
  ZkError(ZkCode code, std::string message) : code_(code), message_(std::move(message)) {}
  // From a ZooKeeper return code, naming the operation and path.
  static ZkError FromRc(int rc, std::string_view op, std::string_view path);

  bool ok() const { return code_ == ZkCode::kOk; }
  ZkCode code() const { return code_; }
  const std::string& message() const { return message_; }
  Status ToStatus() const;

 private:
  ZkCode code_ = ZkCode::kOk;
  std::string message_;
};

// A value or a ZkError.
template <typename T>
class ZkResult {
 public:
  ZkResult(T value) : value_(std::move(value)) {}  // NOLINT: implicit by design
  ZkResult(ZkError error) : error_(std::move(error)) {}  // NOLINT

  bool ok() const { return value_.has_value(); }
  ZkCode code() const { return error_.code(); }
  const ZkError& error() const { return error_; }
  Status ToStatus() const { return error_.ToStatus(); }
  T& operator*() { return *value_; }
  const T& operator*() const { return *value_; }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }

 private:
  std::optional<T> value_;
  ZkError error_;
};

}  // namespace sluice::zk
