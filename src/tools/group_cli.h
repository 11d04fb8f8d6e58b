// Registers `sluice group ...` and its options with CLI11; kept out of
// main.cc so that file stays a short table of commands.
#pragma once

#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "tools/group_commands.h"
#include "tools/perf_cli.h"  // AddLeafFn

namespace sluice::tools {

// What the four commands fill; must outlive parsing and running.
struct GroupCliOptions {
  GroupListOptions list;
  GroupDescribeOptions describe;
  std::vector<std::string> delete_groups;
  GroupResetOptions reset;
};

void AddGroupCommands(CLI::App& app, const GlobalOptions& global, GroupCliOptions& opts,
                      const AddLeafFn& leaf);

}  // namespace sluice::tools
