#include "cluster/topic_name.h"

#include <string>

#include <fmt/format.h>

namespace sluice::cluster {

Status ValidateTopicName(std::string_view name) {
  if (name.empty()) return Status::InvalidArgument("topic name is empty");
  if (name == "." || name == "..") {
    return Status::InvalidArgument(fmt::format("topic name cannot be \"{}\"", name));
  }
  if (name.size() > kMaxTopicNameLength) {
    return Status::InvalidArgument(fmt::format(
        "topic name is {} characters long; the limit is {}", name.size(), kMaxTopicNameLength));
  }
  for (char c : name) {
    const bool legal = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-';
    if (!legal) {
      return Status::InvalidArgument(fmt::format(
          "topic name \"{}\" has an illegal character (0x{:02x}); only [a-zA-Z0-9._-] are allowed",
          name, static_cast<unsigned char>(c)));
    }
  }
  return Status::Ok();
}

std::string UnifyCollidingChars(std::string_view name) {
  std::string out(name);
  for (char& c : out) {
    if (c == '.') c = '_';
  }
  return out;
}

}  // namespace sluice::cluster
