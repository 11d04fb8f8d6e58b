#include "support/metrics_scrape.h"

#include <httplib.h>

namespace sluice::testing {

std::optional<MetricsEndpoint> FindMetricsEndpoint(const std::string& broker_output) {
  constexpr std::string_view kMarker = "metrics on http://";
  const size_t found = broker_output.find(kMarker);
  if (found == std::string::npos) return std::nullopt;
  const size_t at = found + kMarker.size();
  const size_t slash = broker_output.find('/', at);
  if (slash == std::string::npos) return std::nullopt;
  const std::string host_port = broker_output.substr(at, slash - at);
  const size_t colon = host_port.rfind(':');
  if (colon == std::string::npos) return std::nullopt;
  MetricsEndpoint e;
  e.host = host_port.substr(0, colon);
  e.port = static_cast<uint16_t>(std::stoi(host_port.substr(colon + 1)));
  if (e.port == 0) return std::nullopt;
  return e;
}

std::optional<std::string> FetchMetrics(const MetricsEndpoint& endpoint) {
  httplib::Client http(endpoint.host, endpoint.port);
  http.set_connection_timeout(2);
  http.set_read_timeout(5);
  auto res = http.Get("/metrics");
  if (!res || res->status != 200) return std::nullopt;
  return res->body;
}

std::map<std::string, double> ParseExposition(const std::string& text) {
  std::map<std::string, double> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string::npos) end = text.size();
    const std::string line = text.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty() || line[0] == '#') continue;
    const size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::stod(line.substr(space + 1));
  }
  return out;
}

}  // namespace sluice::testing
