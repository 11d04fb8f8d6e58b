#include "zk/zk_error.h"

#include <fmt/format.h>
#include <zookeeper/zookeeper.h>

namespace sluice::zk {

ZkCode ZkCodeFromRc(int rc) {
  switch (rc) {
    case ZOK: return ZkCode::kOk;
    case ZNONODE: return ZkCode::kNoNode;
    case ZNODEEXISTS: return ZkCode::kNodeExists;
    case ZBADVERSION: return ZkCode::kBadVersion;
    case ZNOTEMPTY: return ZkCode::kNotEmpty;
    case ZCONNECTIONLOSS:
    case ZOPERATIONTIMEOUT:
      return ZkCode::kConnectionLoss;
    case ZSESSIONEXPIRED:
    case ZSESSIONMOVED:
      return ZkCode::kSessionExpired;
    case ZCLOSING:
    case ZINVALIDSTATE:  // the handle is closed or its session expired
      return ZkCode::kClosed;
    default:
      return ZkCode::kOther;
  }
}

const char* ZkCodeName(ZkCode code) {
  switch (code) {
    case ZkCode::kOk: return "OK";
    case ZkCode::kNoNode: return "NO_NODE";
    case ZkCode::kNodeExists: return "NODE_EXISTS";
    case ZkCode::kBadVersion: return "BAD_VERSION";
    case ZkCode::kNotEmpty: return "NOT_EMPTY";
    case ZkCode::kConnectionLoss: return "CONNECTION_LOSS";
    case ZkCode::kSessionExpired: return "SESSION_EXPIRED";
    case ZkCode::kClosed: return "CLOSED";
    case ZkCode::kOther: return "OTHER";
  }
  return "?";
}

ZkError ZkError::FromRc(int rc, std::string_view op, std::string_view path) {
  if (rc == ZOK) return ZkError();
  return ZkError(ZkCodeFromRc(rc), fmt::format("zookeeper {} {}: {}", op, path, zerror(rc)));
}

Status ZkError::ToStatus() const {
  switch (code_) {
    case ZkCode::kOk: return Status::Ok();
    case ZkCode::kNoNode: return Status::NotFound(message_);
    case ZkCode::kNodeExists: return Status::AlreadyExists(message_);
    case ZkCode::kClosed: return Status::Aborted(message_);
    default: return Status::IOError(message_);
  }
}

}  // namespace sluice::zk
