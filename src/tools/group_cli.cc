#include "tools/group_cli.h"

namespace sluice::tools {

void AddGroupCommands(CLI::App& app, const GlobalOptions& global, GroupCliOptions& opts,
                      const AddLeafFn& leaf) {
  CLI::App* group = app.add_subcommand("group", "List, describe, delete consumer groups and "
                                                "reset their offsets")
                        ->fallthrough();
  group->require_subcommand(1);

  CLI::App* l = leaf(group, "list", "Group ids with their state and type",
                     [&] { return RunGroupList(global, opts.list); });
  l->add_option("--state", opts.list.states,
                "Only groups in these states (comma-separated): Stable, Empty, "
                "PreparingRebalance, CompletingRebalance, Dead");
  l->add_flag("--json", opts.list.json, "Print one JSON object");

  CLI::App* d = leaf(group, "describe",
                     "State, coordinator, members and per-partition committed offsets and lag",
                     [&] { return RunGroupDescribe(global, opts.describe); });
  d->add_option("group", opts.describe.group, "Group id")->required();
  d->add_flag("--json", opts.describe.json, "Print one JSON object");

  CLI::App* del = leaf(group, "delete", "Delete groups that have no members, with their offsets",
                       [&] { return RunGroupDelete(global, opts.delete_groups); });
  del->add_option("group", opts.delete_groups, "Group ids")->required();

  GroupResetOptions& r = opts.reset;
  CLI::App* reset = leaf(group, "reset-offsets",
                         "Print (and with --execute commit) new offsets for an inactive group",
                         [&] { return RunGroupResetOffsets(global, opts.reset); });
  reset->add_option("group", r.group, "Group id")->required();
  reset->add_option("--topic", r.topic, "Topic whose offsets are reset")->required();
  reset->add_option("--partition", r.partitions, "Only this partition (repeatable)")
      ->check(CLI::NonNegativeNumber);
  reset->add_flag("--to-earliest", r.to_earliest, "To each partition's earliest offset");
  reset->add_flag("--to-latest", r.to_latest, "To each partition's end");
  reset->add_option("--to-offset", r.to_offset, "To this offset (kept within the log)");
  reset->add_option("--shift-by", r.shift_by, "Move the committed offsets by N (may be negative)");
  reset->add_option("--to-datetime", r.to_datetime,
                    "To the first message at or after YYYY-MM-DDTHH:MM:SS[.sss][Z|+HH:MM]");
  reset->add_flag("--execute", r.execute, "Commit the new offsets (default: only print them)");
}

}  // namespace sluice::tools
