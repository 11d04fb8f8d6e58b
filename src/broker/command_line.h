// The sluice-broker command line, as Kafka's kafka-server-start takes it:
//   sluice-broker [server.properties] [--override key=value ...]
//   sluice-broker --help | --version
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::broker {

// Process exit codes (documented in --help).
inline constexpr int kExitOk = 0;
inline constexpr int kExitRuntimeError = 1;  // Bind failure, data directory unusable, ...
inline constexpr int kExitConfigError = 2;   // Bad command line or configuration.

struct CommandLine {
  std::optional<std::string> properties_file;
  std::vector<std::string> overrides;  // "key=value", in order (later wins).
  bool help = false;
  bool version = false;
};

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv);
std::string UsageText();

}  // namespace sluice::broker
