#include "broker/command_line.h"

#include <string_view>

#include <fmt/format.h>

namespace sluice::broker {

Result<CommandLine> ParseCommandLine(int argc, const char* const* argv) {
  CommandLine cl;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "--help" || arg == "-h") {
      cl.help = true;
    } else if (arg == "--version") {
      cl.version = true;
    } else if (arg == "--override") {
      if (i + 1 >= argc) return Status::InvalidArgument("--override needs key=value");
      cl.overrides.emplace_back(argv[++i]);
    } else if (arg.starts_with("--override=")) {
      cl.overrides.emplace_back(arg.substr(std::string_view("--override=").size()));
    } else if (arg.starts_with("-") && arg.size() > 1) {
      return Status::InvalidArgument(fmt::format("unknown option '{}'", arg));
    } else if (!cl.properties_file) {
      cl.properties_file = std::string(arg);
    } else {
      return Status::InvalidArgument(
          fmt::format("more than one properties file: '{}' and '{}'", *cl.properties_file, arg));
    }
  }
  for (const std::string& o : cl.overrides) {
    if (o.find('=') == std::string::npos || o.front() == '=') {
      return Status::InvalidArgument(fmt::format("--override '{}': expected key=value", o));
    }
  }
  return cl;
}

std::string UsageText() {
  return "Usage: sluice-broker [server.properties] [--override key=value ...]\n"
         "       sluice-broker --help | --version\n"
         "\n"
         "Starts the Sluice broker. Settings come from Kafka-style broker properties:\n"
         "defaults, then the properties file, then each --override (later wins).\n"
         "Unknown or invalid settings are refused, each named on stderr.\n"
         "\n"
         "Exit codes: 0 clean shutdown (SIGTERM/SIGINT), 1 runtime failure\n"
         "(e.g. cannot listen), 2 bad command line or configuration.\n";
}

}  // namespace sluice::broker
