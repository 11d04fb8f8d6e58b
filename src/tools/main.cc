// sluice: the command-line tool for people. This file only wires CLI11 to the
// Run* functions in commands.h; everything else is testable without it.
#include <CLI/CLI.hpp>

#include <functional>
#include <utility>
#include <vector>

#include "tools/commands.h"
#include "tools/group_cli.h"
#include "tools/perf_cli.h"

using namespace sluice::tools;

int main(int argc, char** argv) {
  CLI::App app{"sluice: topics, messages and offsets on a Sluice (or any Kafka) cluster.\n"
               "Exit codes: 0 ok, 1 the operation failed, 2 usage error, 3 broker unreachable."};
  app.name("sluice");
  app.require_subcommand(1);
  GlobalOptions global;
  app.add_option("-b,--bootstrap-server,--bootstrap", global.bootstrap, "Broker address HOST:PORT[,HOST:PORT]")
      ->envname("SLUICE_BOOTSTRAP")
      ->capture_default_str();
  app.add_option("-X", global.properties, "librdkafka property name=value (repeatable)");
  app.add_option("--timeout-ms", global.timeout_ms, "How long to wait for the broker")
      ->check(CLI::PositiveNumber)
      ->capture_default_str();
  app.add_flag("-v,--verbose", global.verbose, "Show librdkafka's log");

  // Each leaf subcommand with the call that runs it once parsing succeeded.
  std::vector<std::pair<CLI::App*, std::function<int()>>> leaves;
  auto leaf = [&](CLI::App* parent, const char* name, const char* help, std::function<int()> run) {
    CLI::App* sub = parent->add_subcommand(name, help)->fallthrough();
    leaves.emplace_back(sub, std::move(run));
    return sub;
  };

  CLI::App* cluster =
      app.add_subcommand("cluster", "Cluster-wide information and leader elections")->fallthrough();
  cluster->require_subcommand(1);
  leaf(cluster, "info", "Brokers, controller, cluster id and topic count",
       [&] { return RunClusterInfo(global); });
  ElectLeadersOptions elect;
  CLI::App* el = leaf(cluster, "elect-leaders",
                      "Elect leaders: each partition's preferred replica, or with --type unclean "
                      "any live replica of a partition without a leader (may lose data)",
                      [&] { return RunClusterElectLeaders(global, elect); });
  CLI::Option* elect_topic =
      el->add_option("--topic", elect.topic, "Only this topic (default: every partition)");
  el->add_option("--partition", elect.partition, "Only this partition of --topic")
      ->check(CLI::NonNegativeNumber)
      ->needs(elect_topic);
  el->add_option("--type", elect.type, "preferred or unclean")
      ->check(CLI::IsMember({"preferred", "unclean"}))
      ->capture_default_str();

  CLI::App* partition =
      app.add_subcommand("partition", "Partition reassignment (move replicas between brokers)")
          ->fallthrough();
  partition->require_subcommand(1);
  ReassignOptions reassign;
  CLI::App* ra = leaf(partition, "reassign",
                      "Move a partition to --replicas (the first is the preferred leader), or "
                      "--cancel the move in progress",
                      [&] { return RunPartitionReassign(global, reassign); });
  ra->add_option("--topic", reassign.topic, "Topic")->required();
  ra->add_option("--partition", reassign.partition, "Partition")
      ->check(CLI::NonNegativeNumber)
      ->required();
  CLI::Option* replicas_opt =
      ra->add_option("--replicas", reassign.replicas, "Target broker ids, e.g. 2,3,4");
  CLI::Option* cancel_opt =
      ra->add_flag("--cancel", reassign.cancel, "Cancel the reassignment in progress")
          ->excludes(replicas_opt);
  ra->add_option("--throttle", reassign.throttle,
                 "Throttle the copy to this many bytes/s (as kafka-reassign-partitions.sh "
                 "--throttle); `sluice partition clear-throttle` lifts it")
      ->check(CLI::NonNegativeNumber)
      ->excludes(cancel_opt);
  std::string unthrottled_topic;
  CLI::App* ct = leaf(partition, "clear-throttle",
                      "Remove a topic's reassignment throttle and every broker's throttle rates",
                      [&] { return RunPartitionClearThrottle(global, unthrottled_topic); });
  ct->add_option("--topic", unthrottled_topic, "Topic")->required();
  leaf(partition, "reassignments",
       "Reassignments in progress: replicas, adding, removing, and whether each added replica "
       "is in sync",
       [&] { return RunPartitionReassignments(global); });

  CLI::App* topic = app.add_subcommand("topic", "Create, list, describe, alter and delete topics")
                        ->fallthrough();
  topic->require_subcommand(1);

  TopicCreateOptions create;
  CLI::App* c = leaf(topic, "create", "Create a topic", [&] { return RunTopicCreate(global, create); });
  c->add_option("topic", create.topic, "Topic name")->required();
  c->add_option("--partitions", create.partitions, "Partition count (default: the broker's)");
  c->add_option("--replication-factor", create.replication_factor,
                "Replicas per partition (default: the broker's)");
  c->add_option("--config", create.configs, "Topic config name=value (repeatable)");

  leaf(topic, "list", "List topic names", [&] { return RunTopicList(global); });

  TopicDescribeOptions describe;
  CLI::App* d = leaf(topic, "describe", "Partitions (leader, replicas, isr, offsets) and configs",
                     [&] { return RunTopicDescribe(global, describe); });
  d->add_option("topic", describe.topic,
                "Topic name (optional with --under-replicated or --unavailable: every topic)");
  d->add_flag("--all-configs", describe.all_configs, "Also list configs left at their default");
  d->add_flag("--under-replicated", describe.under_replicated,
              "Only partitions whose ISR is smaller than their replicas");
  d->add_flag("--unavailable", describe.unavailable, "Only partitions without a live leader");

  std::string delete_topic;
  CLI::App* del = leaf(topic, "delete", "Delete a topic and its data",
                       [&] { return RunTopicDelete(global, delete_topic); });
  del->add_option("topic", delete_topic, "Topic name")->required();

  TopicAlterConfigOptions alter;
  CLI::App* a = leaf(topic, "alter-config", "Set or remove topic config overrides",
                     [&] { return RunTopicAlterConfig(global, alter); });
  a->add_option("topic", alter.topic, "Topic name")->required();
  a->add_option("--set", alter.set, "Config name=value to set (repeatable)");
  a->add_option("--delete", alter.remove, "Config name to reset to its default (repeatable)");

  std::string grow_topic;
  int total = 0;
  CLI::App* g = leaf(topic, "add-partitions", "Raise a topic's partition count",
                     [&] { return RunTopicAddPartitions(global, grow_topic, total); });
  g->add_option("topic", grow_topic, "Topic name")->required();
  g->add_option("--total", total, "The new total partition count")
      ->required()
      ->check(CLI::PositiveNumber);

  ProduceOptions produce;
  CLI::App* p = leaf(&app, "produce", "Send stdin to a topic, one message per line",
                     [&] { return RunProduce(global, produce); });
  p->add_option("topic", produce.topic, "Topic name")->required();
  p->add_option("--key-separator", produce.key_separator,
                "Split each line into key SEP value at the first SEP (\\t allowed); "
                "a line without SEP fails");
  p->add_option("--header", produce.headers, "Header name=value on every message (repeatable)");
  p->add_option("--partition", produce.partition, "Partition (default: by key, or spread)")
      ->check(CLI::NonNegativeNumber);
  p->add_option("--acks", produce.acks, "Acknowledgements: all, 1 or 0 (default: all)")
      ->check(CLI::IsMember({"all", "-1", "1", "0"}));
  p->add_option("--compression", produce.compression, "none, gzip, snappy, lz4 or zstd")
      ->check(CLI::IsMember({"none", "gzip", "snappy", "lz4", "zstd"}));
  p->add_option("--null-value-marker", produce.null_value_marker,
                "A value equal to this is sent as null (a tombstone)");

  ConsumeOptions consume;
  CLI::App* r = leaf(&app, "consume", "Print a topic's messages to stdout",
                     [&] { return RunConsume(global, consume); });
  r->add_option("topic", consume.topic, "Topic name")->required();
  r->add_flag("--from-beginning", consume.from_beginning,
             "Start at the earliest offset (with --group: if the group has no offset yet)");
  r->add_option("--offset", consume.offset,
                "Start offset: beginning, end, N, or -N (N before the end)");
  r->add_option("--timestamp", consume.timestamp_ms,
                "Start at the first message at or after this time (ms since epoch)");
  r->add_option("--partition", consume.partition, "Only this partition")
      ->check(CLI::NonNegativeNumber);
  r->add_option("--count", consume.count, "Exit after this many messages")
      ->check(CLI::NonNegativeNumber);
  r->add_option("--group", consume.group, "Consume as member of this group, committing offsets");
  r->add_option("--timeout-ms", consume.idle_timeout_ms,
                "Exit after this long without a message (default: never)")
      ->check(CLI::NonNegativeNumber);
  r->add_flag("-e,--exit-at-end", consume.exit_at_end,
              "Exit once the last message of every partition has been printed");
  r->add_option("--format", consume.format,
                "Output per message: %k key, %v value, %K/%S key/value length, %t topic, "
                "%p partition, %o offset, %T timestamp, %h headers, %% and \\n \\t escapes")
      ->capture_default_str();

  OffsetsOptions offsets;
  CLI::App* o = leaf(&app, "offsets", "Earliest and latest offset of each partition",
                     [&] { return RunOffsets(global, offsets); });
  o->add_option("topic", offsets.topic, "Topic name")->required();
  o->add_option("--timestamp", offsets.timestamp_ms,
                "Also the first offset at or after this time (ms since epoch)");

  PerfCliOptions perf;
  AddPerfCommands(app, global, perf, leaf);

  GroupCliOptions group_opts;
  AddGroupCommands(app, global, group_opts, leaf);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int code = app.exit(e);  // Prints the help or the error.
    return code == 0 ? kExitOk : kExitUsage;
  }
  for (auto& [sub, run] : leaves) {
    if (sub->parsed()) return run();
  }
  return kExitUsage;  // Unreachable: CLI11 requires a leaf subcommand.
}
