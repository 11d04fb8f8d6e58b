// Registers `sluice perf produce|consume|e2e` and their options with CLI11;
// kept out of main.cc so that file stays a short table of commands.
#pragma once

#include <CLI/CLI.hpp>

#include <functional>

#include "tools/perf_commands.h"

namespace sluice::tools {

// Adds a leaf subcommand whose `run` is called once parsing succeeded.
using AddLeafFn = std::function<CLI::App*(CLI::App* parent, const char* name, const char* help,
                                          std::function<int()> run)>;

// The options the three commands fill; must outlive parsing and running.
struct PerfCliOptions {
  PerfOptions produce;
  PerfOptions consume;
  PerfOptions e2e;
};

void AddPerfCommands(CLI::App& app, const GlobalOptions& global, PerfCliOptions& opts,
                     const AddLeafFn& leaf);

}  // namespace sluice::tools
