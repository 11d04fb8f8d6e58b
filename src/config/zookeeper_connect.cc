#include "config/zookeeper_connect.h"

#include <charconv>

#include <fmt/format.h>

namespace sluice::config {
namespace {

Result<std::pair<std::string, uint16_t>> ParseServer(std::string_view item) {
  std::string_view host;
  std::string_view port_text;
  if (!item.empty() && item.front() == '[') {
    const size_t close = item.find(']');
    if (close == item.npos || close + 1 >= item.size() || item[close + 1] != ':') {
      return Status::InvalidArgument(fmt::format("'{}': malformed IPv6 address", item));
    }
    host = item.substr(1, close - 1);
    port_text = item.substr(close + 2);
  } else {
    const size_t colon = item.rfind(':');
    if (colon == item.npos) {
      return Status::InvalidArgument(fmt::format("'{}' is not host:port", item));
    }
    host = item.substr(0, colon);
    port_text = item.substr(colon + 1);
    // An IPv6 address needs its brackets, or its last group reads as the port.
    if (host.find(':') != host.npos) {
      return Status::InvalidArgument(
          fmt::format("'{}': write an IPv6 address in brackets, [addr]:port", item));
    }
  }
  if (host.empty()) return Status::InvalidArgument(fmt::format("'{}' has no host", item));
  // The ZooKeeper client splits on commas only: a space would be part of the host.
  if (host.find_first_of(" \t") != host.npos) {
    return Status::InvalidArgument(fmt::format("'{}': a host name has no spaces", item));
  }
  int port = -1;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 1 ||
      port > 65535) {
    return Status::InvalidArgument(fmt::format("'{}': invalid port '{}'", item, port_text));
  }
  return std::make_pair(std::string(host), static_cast<uint16_t>(port));
}

// ZooKeeper's path rules: absolute, no empty, "." or ".." segment, no
// trailing slash, no control characters.
Status CheckChroot(std::string_view chroot) {
  auto bad = [&](std::string_view why) {
    return Status::InvalidArgument(fmt::format("chroot '{}' {}", chroot, why));
  };
  if (chroot.back() == '/') return bad("ends with '/'");
  size_t start = 1;
  while (start <= chroot.size()) {
    size_t end = chroot.find('/', start);
    if (end == chroot.npos) end = chroot.size();
    const std::string_view segment = chroot.substr(start, end - start);
    if (segment.empty()) return bad("has an empty path segment");
    if (segment == "." || segment == "..") return bad("has a relative path segment");
    for (char c : segment) {
      if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
        return bad("has a control character");
      }
    }
    start = end + 1;
  }
  return Status::Ok();
}

}  // namespace

Result<ZkConnect> ParseZkConnect(std::string_view text) {
  ZkConnect out;
  std::string_view servers = text;
  if (const size_t slash = text.find('/'); slash != text.npos) {
    servers = text.substr(0, slash);
    const std::string_view chroot = text.substr(slash);
    if (chroot != "/") {
      SLUICE_RETURN_IF_ERROR(CheckChroot(chroot));
      out.chroot = std::string(chroot);
    }
  }
  size_t start = 0;
  while (true) {
    const size_t comma = servers.find(',', start);
    std::string_view item =
        servers.substr(start, comma == servers.npos ? servers.npos : comma - start);
    if (item.empty()) {
      return Status::InvalidArgument(servers.empty() ? "no server given"
                                                     : "empty entry in the server list");
    }
    auto server = ParseServer(item);
    if (!server.ok()) return server.status();
    out.servers.push_back(std::move(server).value());
    if (comma == servers.npos) break;
    start = comma + 1;
  }
  return out;
}

}  // namespace sluice::config
