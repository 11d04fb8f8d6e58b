#include "base/status.h"

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

namespace sluice {

std::string_view StatusCodeName(StatusCode code) {
  switch (code) {
    case StatusCode::kOk: return "OK";
    case StatusCode::kNotFound: return "NotFound";
    case StatusCode::kCorruption: return "Corruption";
    case StatusCode::kInvalidArgument: return "InvalidArgument";
    case StatusCode::kIOError: return "IOError";
    case StatusCode::kNoSpace: return "NoSpace";
    case StatusCode::kOutOfRange: return "OutOfRange";
    case StatusCode::kAlreadyExists: return "AlreadyExists";
    case StatusCode::kNotSupported: return "NotSupported";
    case StatusCode::kAborted: return "Aborted";
    case StatusCode::kNotLeader: return "NotLeader";
  }
  return "Unknown";
}

Status Status::FromErrno(int err, std::string_view what) {
  std::string msg = fmt::format("{}: {}", what, std::strerror(err));
  if (err == ENOSPC || err == EDQUOT) return NoSpace(std::move(msg));
  if (err == ENOENT) return NotFound(std::move(msg));
  return IOError(std::move(msg));
}

void Status::Free(Rep* rep) { delete rep; }

const std::string& Status::message() const {
  static const std::string kEmpty;
  return rep_ == nullptr ? kEmpty : rep_->message;
}

std::string Status::ToString() const {
  if (ok()) return "OK";
  return fmt::format("{}: {}", StatusCodeName(rep_->code), rep_->message);
}

}  // namespace sluice
