#include "config/listener.h"

#include <charconv>
#include <set>

#include <fmt/format.h>

namespace sluice::config {

namespace {
std::string_view TrimBlanks(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  if (TrimBlanks(s).empty()) return out;
  size_t start = 0;
  while (true) {
    size_t at = s.find(sep, start);
    out.push_back(TrimBlanks(s.substr(start, at == s.npos ? s.npos : at - start)));
    if (at == s.npos) break;
    start = at + 1;
  }
  return out;
}
}  // namespace

std::string Listener::ToString() const {
  if (host.find(':') != std::string::npos) return fmt::format("{}://[{}]:{}", name, host, port);
  return fmt::format("{}://{}:{}", name, host, port);
}

Result<std::vector<std::pair<std::string, std::string>>> ParseProtocolMap(std::string_view text) {
  std::vector<std::pair<std::string, std::string>> map;
  for (std::string_view item : Split(text, ',')) {
    const size_t colon = item.find(':');
    if (colon == item.npos || colon == 0 || colon + 1 == item.size()) {
      return Status::InvalidArgument(fmt::format("'{}' is not NAME:PROTOCOL", item));
    }
    map.emplace_back(std::string(TrimBlanks(item.substr(0, colon))),
                     std::string(TrimBlanks(item.substr(colon + 1))));
  }
  return map;
}

Result<std::vector<Listener>> ParseListenerSyntax(std::string_view text) {
  std::vector<Listener> listeners;
  std::set<std::string> names;
  for (std::string_view item : Split(text, ',')) {
    const size_t scheme = item.find("://");
    if (scheme == item.npos || scheme == 0) {
      return Status::InvalidArgument(fmt::format("'{}' is not NAME://host:port", item));
    }
    Listener listener;
    listener.name = std::string(item.substr(0, scheme));
    std::string_view rest = item.substr(scheme + 3);
    std::string_view port_text;
    if (!rest.empty() && rest.front() == '[') {
      const size_t close = rest.find(']');
      if (close == rest.npos || close + 1 >= rest.size() || rest[close + 1] != ':') {
        return Status::InvalidArgument(fmt::format("'{}': malformed IPv6 address", item));
      }
      listener.host = std::string(rest.substr(1, close - 1));
      port_text = rest.substr(close + 2);
    } else {
      const size_t colon = rest.rfind(':');
      if (colon == rest.npos) {
        return Status::InvalidArgument(fmt::format("'{}' has no port", item));
      }
      listener.host = std::string(rest.substr(0, colon));
      port_text = rest.substr(colon + 1);
    }
    int port = -1;
    auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
    if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port < 0 ||
        port > 65535) {
      return Status::InvalidArgument(fmt::format("'{}': invalid port '{}'", item, port_text));
    }
    listener.port = static_cast<uint16_t>(port);
    if (!names.insert(listener.name).second) {
      return Status::InvalidArgument(fmt::format("listener name '{}' appears twice", listener.name));
    }
    listeners.push_back(std::move(listener));
  }
  return listeners;
}

Result<std::vector<Listener>> ParseListeners(
    std::string_view text, const std::vector<std::pair<std::string, std::string>>& protocol_map) {
  auto listeners = ParseListenerSyntax(text);
  if (!listeners.ok()) return listeners;
  for (Listener& listener : *listeners) {
    for (const auto& [name, protocol] : protocol_map) {
      if (name == listener.name) listener.security_protocol = protocol;
    }
    if (listener.security_protocol.empty()) {
      return Status::InvalidArgument(fmt::format(
          "listener name '{}' is not in listener.security.protocol.map", listener.name));
    }
  }
  return listeners;
}

}  // namespace sluice::config
