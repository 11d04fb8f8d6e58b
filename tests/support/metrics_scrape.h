// Reading a broker's Prometheus endpoint in integration tests: where it
// listens (from the broker's log line), GET /metrics, and the exposition
// text as a map of "name{labels}" -> value.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace sluice::testing {

struct MetricsEndpoint {
  std::string host;
  uint16_t port = 0;
};

// The endpoint a broker logged ("metrics on http://HOST:PORT/metrics"), if
// its output has that line.
std::optional<MetricsEndpoint> FindMetricsEndpoint(const std::string& broker_output);

// GET /metrics: the body, or nullopt when the request failed or the status
// was not 200.
std::optional<std::string> FetchMetrics(const MetricsEndpoint& endpoint);

// Sample lines of an exposition ("# " lines skipped), keyed by everything
// before the value.
std::map<std::string, double> ParseExposition(const std::string& text);

}  // namespace sluice::testing
