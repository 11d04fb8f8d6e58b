// The broker properties: Kafka's names, types and defaults (Kafka 3.x) unless
// a comment says why Sluice differs. Keys marked Ignored are accepted so a
// Kafka server.properties starts Sluice unchanged; they have no effect.
#include <fmt/format.h>

#include "config/config_registry.h"
#include "config/listener.h"
#include "config/zookeeper_connect.h"

namespace sluice::config {

namespace {

constexpr const char* kIntMax = "2147483647";
using T = ConfigType;

ConfigDef Def(const char* name, ConfigType type, std::optional<std::string> def, Validator v,
              const char* doc) {
  return ConfigDef{name, type, std::move(def), std::move(v), doc, Support::kSupported, true};
}
ConfigDef Ignored(const char* name, ConfigType type, std::optional<std::string> def,
                  const char* doc) {
  return ConfigDef{name, type, std::move(def), {}, doc, Support::kIgnored, true};
}

Validator ValidListeners() {
  return [](const ConfigValue& v) -> std::optional<std::string> {
    auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) return std::nullopt;
    // Names are checked against the protocol map in BrokerConfig.
    auto parsed = ParseListenerSyntax(*s);
    if (!parsed.ok()) return parsed.status().message();
    return std::nullopt;
  };
}

Validator ValidProtocolMap() {
  return [](const ConfigValue& v) -> std::optional<std::string> {
    auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) return std::nullopt;
    auto parsed = ParseProtocolMap(*s);
    if (!parsed.ok()) return parsed.status().message();
    return std::nullopt;
  };
}

Validator ValidHostPortOrEmpty() {
  return [](const ConfigValue& v) -> std::optional<std::string> {
    auto* s = std::get_if<std::string>(&v);
    if (s == nullptr || s->empty()) return std::nullopt;
    auto parsed = ParseListenerSyntax("X://" + *s);
    if (!parsed.ok()) return "expected host:port (or empty to disable)";
    return std::nullopt;
  };
}

Validator ValidZkConnect() {
  return [](const ConfigValue& v) -> std::optional<std::string> {
    auto* s = std::get_if<std::string>(&v);
    if (s == nullptr) return std::nullopt;
    auto parsed = ParseZkConnect(*s);
    if (!parsed.ok()) return parsed.status().message();
    return std::nullopt;
  };
}

Validator NonEmpty() {
  return [](const ConfigValue& v) -> std::optional<std::string> {
    auto* s = std::get_if<std::string>(&v);
    if (s != nullptr && s->empty()) return "must not be empty (leave it unset instead)";
    return std::nullopt;
  };
}

std::vector<ConfigDef> MakeBrokerDefs() {
  const Validator positive = AtLeast(1);
  const Validator non_negative = AtLeast(0);
  return {
      // --- Identity and listeners.
      Def("broker.id", T::kInt, "0", non_negative,
          "The broker's id. Kafka defaults to -1 (auto-generated); Sluice defaults to 0, like "
          "Kafka's sample server.properties (each broker of a cluster needs its own)."),
      Def("node.id", T::kInt, std::nullopt, non_negative,
          "KRaft name of broker.id; if set it must agree with broker.id when both are set."),
      Def("listeners", T::kString, "PLAINTEXT://127.0.0.1:9092", ValidListeners(),
          "Comma-separated NAME://host:port to listen on; port 0 picks a free port; an empty "
          "host listens on every interface."),
      Def("advertised.listeners", T::kString, std::nullopt, ValidListeners(),
          "Addresses given to clients in Metadata; defaults to listeners."),
      Def("listener.security.protocol.map", T::kString,
          "PLAINTEXT:PLAINTEXT,SSL:SSL,SASL_PLAINTEXT:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
          ValidProtocolMap(), "Listener name to security protocol. Sluice serves PLAINTEXT only."),
      Def("inter.broker.listener.name", T::kString, std::nullopt, NonEmpty(),
          "The listener followers and the controller use to reach other brokers; the first "
          "advertised one if unset."),
      Ignored("security.inter.broker.protocol", T::kString, "PLAINTEXT", "Single node: unused."),
      Ignored("process.roles", T::kList, "", "KRaft roles; Sluice is a single combined node."),
      Ignored("controller.quorum.voters", T::kList, "", "KRaft: unused."),
      Ignored("controller.listener.names", T::kList, std::nullopt, "KRaft: unused."),
      Def("broker.rack", T::kString, std::nullopt, NonEmpty(),
          "The broker's rack, registered in ZooKeeper and reported in Metadata."),

      // --- Cluster membership (ZooKeeper mode). Unset: a single node, no ZooKeeper.
      Def("zookeeper.connect", T::kString, std::nullopt, ValidZkConnect(),
          "host:port[,host:port...][/chroot] of the ZooKeeper ensemble the broker joins a "
          "cluster through; the chroot is created if missing. Unset: a single node."),
      Def("zookeeper.session.timeout.ms", T::kInt, "18000", positive,
          "ZooKeeper session timeout: how long a broker cut off from ZooKeeper (or killed) "
          "stays registered."),
      Def("zookeeper.connection.timeout.ms", T::kInt, std::nullopt, positive,
          "How long start-up waits to connect to ZooKeeper; defaults to "
          "zookeeper.session.timeout.ms."),

      // --- Storage.
      Def("log.dirs", T::kList, std::nullopt, {},
          "Directories holding partition data; defaults to log.dir."),
      Def("log.dir", T::kString, "./data", {},
          "The data directory when log.dirs is not set. Kafka's default is /tmp/kafka-logs; "
          "Sluice uses ./data."),
      Def("num.partitions", T::kInt, "1", positive, "Partitions of auto-created topics."),
      Def("default.replication.factor", T::kInt, "1", positive,
          "Replication factor of auto-created topics."),
      Def("auto.create.topics.enable", T::kBoolean, "true", {},
          "Create a topic on first Metadata/Produce for it."),
      Def("delete.topic.enable", T::kBoolean, "true", {}, "Allow DeleteTopics."),
      Def("message.max.bytes", T::kInt, "1048588", non_negative,
          "Largest record batch accepted (topic: max.message.bytes)."),
      Def("log.segment.bytes", T::kInt, "1073741824", AtLeast(14), "Segment size (topic: segment.bytes)."),
      Def("log.roll.ms", T::kLong, std::nullopt, positive,
          "Roll a segment after this long (topic: segment.ms); overrides log.roll.hours."),
      Def("log.roll.hours", T::kInt, "168", positive, "Roll a segment after this many hours."),
      Def("log.roll.jitter.ms", T::kLong, std::nullopt, non_negative,
          "Random jitter subtracted from the roll time (topic: segment.jitter.ms)."),
      Def("log.roll.jitter.hours", T::kInt, "0", non_negative, "Roll jitter in hours."),
      Def("log.retention.ms", T::kLong, std::nullopt, {},
          "Keep data this long (topic: retention.ms); -1 keeps forever. Overrides minutes/hours."),
      Def("log.retention.minutes", T::kInt, std::nullopt, {}, "Retention in minutes."),
      Def("log.retention.hours", T::kInt, "168", {}, "Retention in hours."),
      Def("log.retention.bytes", T::kLong, "-1", {},
          "Largest partition size before old segments go (topic: retention.bytes); -1: no limit."),
      Def("log.retention.check.interval.ms", T::kLong, "300000", positive,
          "How often retention runs."),
      Def("log.cleanup.policy", T::kList, "delete", ListOf({"delete", "compact"}),
          "delete and/or compact (topic: cleanup.policy)."),
      Def("log.cleaner.enable", T::kBoolean, "true", {}, "Run the log cleaner (compaction)."),
      Def("log.cleaner.threads", T::kInt, "1", non_negative, "Log cleaner threads."),
      Def("log.cleaner.backoff.ms", T::kLong, "15000", non_negative,
          "Cleaner sleep when nothing to clean."),
      Def("log.cleaner.dedupe.buffer.size", T::kLong, "134217728", {},
          "Memory for the cleaner's key map."),
      Def("log.cleaner.delete.retention.ms", T::kLong, "86400000", non_negative,
          "How long tombstones are kept (topic: delete.retention.ms)."),
      Def("log.cleaner.min.cleanable.ratio", T::kDouble, "0.5", Between(0, 1),
          "Dirty ratio that triggers cleaning (topic: min.cleanable.dirty.ratio)."),
      Def("log.cleaner.min.compaction.lag.ms", T::kLong, "0", non_negative,
          "Minimum age before compaction (topic: min.compaction.lag.ms)."),
      Def("log.cleaner.max.compaction.lag.ms", T::kLong, kLongMax, positive,
          "Maximum age before compaction (topic: max.compaction.lag.ms)."),
      Def("log.index.interval.bytes", T::kInt, "4096", non_negative,
          "Bytes between offset index entries (topic: index.interval.bytes)."),
      Def("log.index.size.max.bytes", T::kInt, "10485760", AtLeast(4),
          "Maximum offset index size (topic: segment.index.bytes)."),
      Def("log.flush.interval.messages", T::kLong, kLongMax, positive,
          "fsync after this many messages (topic: flush.messages)."),
      Def("log.flush.interval.ms", T::kLong, std::nullopt, {},
          "fsync after this long (topic: flush.ms); defaults to log.flush.scheduler.interval.ms."),
      Def("log.flush.scheduler.interval.ms", T::kLong, kLongMax, {},
          "How often the flusher checks logs."),
      Def("log.flush.offset.checkpoint.interval.ms", T::kInt, "60000", non_negative,
          "Recovery point checkpoint interval."),
      Def("log.flush.start.offset.checkpoint.interval.ms", T::kInt, "60000", non_negative,
          "Log start offset checkpoint interval."),
      Def("log.segment.delete.delay.ms", T::kLong, "60000", non_negative,
          "Delay before deleting a removed segment's files (topic: file.delete.delay.ms)."),
      Def("log.preallocate", T::kBoolean, "false", {},
          "Accepted for Kafka compatibility (topic: preallocate); has no effect: Sluice "
          "preallocates by sluice.log.preallocate.bytes instead."),
      Def("log.message.timestamp.type", T::kString, "CreateTime",
          OneOf({"CreateTime", "LogAppendTime"}),
          "CreateTime or LogAppendTime (topic: message.timestamp.type)."),
      Def("log.message.timestamp.difference.max.ms", T::kLong, kLongMax, non_negative,
          "Largest accepted |broker time - CreateTime| (topic: "
          "message.timestamp.difference.max.ms)."),
      // KIP-937 (Kafka 3.6): separate bounds for the past and the future. Kafka
      // 3.6-3.9 default both to Long.MAX ("unset": the difference key above
      // applies to that side); 4.0 drops the difference key and defaults the
      // future bound to one hour. Sluice keeps the difference key, so it
      // keeps the 3.x defaults.
      Def("log.message.timestamp.before.max.ms", T::kLong, kLongMax, non_negative,
          "Largest accepted broker time - CreateTime (topic: "
          "message.timestamp.before.max.ms)."),
      Def("log.message.timestamp.after.max.ms", T::kLong, kLongMax, non_negative,
          "Largest accepted CreateTime - broker time (topic: "
          "message.timestamp.after.max.ms)."),
      Def("log.message.downconversion.enable", T::kBoolean, "true", {},
          "Down-convert for old fetch versions (topic: message.downconversion.enable)."),
      Ignored("log.message.format.version", T::kString, "3.0-IV1", "Sluice writes v2 batches only."),
      Def("num.recovery.threads.per.data.dir", T::kInt, "1", positive,
          "Threads recovering logs at start-up."),
      Def("compression.type", T::kString, "producer",
          OneOf({"uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"}),
          "Compression of stored batches; producer keeps the producer's (topic: compression.type)."),
      Def("min.insync.replicas", T::kInt, "1", positive,
          "Replicas that must have a write for acks=all (topic: min.insync.replicas)."),
      Def("unclean.leader.election.enable", T::kBoolean, "false", {},
          "Topic: unclean.leader.election.enable."),
      Def("fetch.max.bytes", T::kInt, "57671680", AtLeast(1024), "Broker cap on a fetch response."),

      // --- Network.
      Def("socket.request.max.bytes", T::kInt, "104857600", positive,
          "Largest request accepted; checked on the length prefix before allocating."),
      Def("socket.send.buffer.bytes", T::kInt, "-1", AtLeast(-1),
          "SO_SNDBUF of client sockets; -1: OS default. Kafka defaults to 102400; Sluice leaves "
          "Linux's autotuning on."),
      Def("socket.receive.buffer.bytes", T::kInt, "-1", AtLeast(-1),
          "SO_RCVBUF of client sockets; -1: OS default (Kafka: 102400)."),
      Def("socket.listen.backlog.size", T::kInt, "1024", positive,
          "listen(2) backlog (Kafka: 50)."),
      Def("connections.max.idle.ms", T::kLong, "600000", positive,
          "Close connections idle for this long."),
      Def("num.network.threads", T::kInt, "3", positive,
          "Sluice: the number of shards when sluice.network.shards is not set and this key is "
          "set explicitly."),
      Ignored("num.io.threads", T::kInt, "8",
              "Sluice handles requests on the shard that read them; no separate I/O pool."),
      Ignored("queued.max.requests", T::kInt, "500",
              "Sluice bounds requests per connection instead "
              "(sluice.connection.max.inflight.requests)."),
      Ignored("background.threads", T::kInt, "10", "Unused."),
      Ignored("max.connections", T::kInt, kIntMax, "Not enforced yet."),

      // --- Groups and offsets.
      Def("offsets.topic.num.partitions", T::kInt, "50", positive,
          "Partitions of __consumer_offsets."),
      Def("offsets.topic.replication.factor", T::kShort, "1", positive,
          "Replication of __consumer_offsets (Kafka: 3; Sluice is one node)."),
      Def("offsets.topic.segment.bytes", T::kInt, "104857600", positive,
          "Segment size of __consumer_offsets."),
      Def("offsets.retention.minutes", T::kInt, "10080", positive,
          "Keep committed offsets of empty groups this long."),
      Def("offsets.retention.check.interval.ms", T::kLong, "600000", positive,
          "How often stale offsets are removed."),
      Def("offsets.commit.timeout.ms", T::kInt, "5000", positive, "Offset commit timeout."),
      Def("offset.metadata.max.bytes", T::kInt, "4096", non_negative,
          "Largest metadata string of a committed offset."),
      Def("group.initial.rebalance.delay.ms", T::kInt, "3000", non_negative,
          "Wait for more members before the first rebalance of an empty group."),
      Def("group.min.session.timeout.ms", T::kInt, "6000", non_negative,
          "Smallest session timeout a member may ask for."),
      Def("group.max.session.timeout.ms", T::kInt, "1800000", non_negative,
          "Largest session timeout a member may ask for."),
      Def("group.max.size", T::kInt, kIntMax, positive, "Largest consumer group."),
      Ignored("transaction.state.log.replication.factor", T::kShort, "3", "Transactions: unused."),
      Ignored("transaction.state.log.min.isr", T::kInt, "2", "Transactions: unused."),
      Ignored("transaction.state.log.num.partitions", T::kInt, "50", "Transactions: unused."),
      Def("auto.leader.rebalance.enable", T::kBoolean, "true", {},
          "Cluster: the controller moves leaderships back to each partition's preferred replica "
          "(the first in its assignment) when a broker's share of them led elsewhere exceeds "
          "leader.imbalance.per.broker.percentage."),
      Def("leader.imbalance.check.interval.seconds", T::kLong, "300", positive,
          "Cluster: how often the controller checks the leader imbalance (the first check comes "
          "5 s after it takes over, or sooner with a shorter interval)."),
      Def("leader.imbalance.per.broker.percentage", T::kInt, "10", non_negative,
          "Cluster: the share of a broker's preferred partitions led elsewhere, in percent, above "
          "which the controller elects their preferred replicas."),
      Def("controlled.shutdown.enable", T::kBoolean, "true", {},
          "In a cluster, on SIGTERM first ask the controller to move this broker's leaderships "
          "to other in-sync replicas (ControlledShutdown), then stop."),
      Def("controlled.shutdown.max.retries", T::kInt, "3", non_negative,
          "ControlledShutdown requests sent at most (Kafka counts the first one too) while the "
          "controller is unknown, fails or answers partitions still led here; then the broker "
          "stops anyway."),
      Def("controlled.shutdown.retry.backoff.ms", T::kLong, "5000", non_negative,
          "Wait between two ControlledShutdown requests."),
      Ignored("num.replica.fetchers", T::kInt, "1", "Single node: unused."),
      Def("replica.lag.time.max.ms", T::kLong, "30000", positive,
          "A follower not caught up with its leader for this long leaves the ISR."),
      Def("replica.fetch.wait.max.ms", T::kInt, "500", positive,
          "How long a follower's fetch waits at its leader for data."),
      Def("replica.fetch.min.bytes", T::kInt, "1", positive,
          "How much data a follower's fetch waits for."),
      Def("replica.fetch.max.bytes", T::kInt, "1048576", positive,
          "Data a follower fetches per partition per request (at least one batch)."),
      Def("replica.fetch.response.max.bytes", T::kInt, "10485760", positive,
          "Data a follower fetches per request."),
      Def("replica.fetch.backoff.ms", T::kInt, "1000", positive,
          "How long a follower waits after a failed fetch."),
      Def("replica.socket.timeout.ms", T::kInt, "30000", positive,
          "The timeout of a follower's requests to its leader."),
      Def("leader.replication.throttled.rate", T::kLong, kLongMax, non_negative,
          "Bytes per second this broker, as a leader, sends to the out-of-sync followers of the "
          "replicas its topics name in leader.replication.throttled.replicas (a reassignment's "
          "catch-up); Long.MAX: no bound. Also set at run time per broker (IncrementalAlterConfigs "
          "on the BROKER resource, in a cluster)."),
      Def("follower.replication.throttled.rate", T::kLong, kLongMax, non_negative,
          "Bytes per second this broker, as a follower, fetches for its out-of-sync replicas its "
          "topics name in follower.replication.throttled.replicas; Long.MAX: no bound. Also set at "
          "run time, as leader.replication.throttled.rate."),
      Def("replication.quota.window.num", T::kInt, "11", positive,
          "Samples over which the replication throttles measure their rate."),
      Def("replication.quota.window.size.seconds", T::kInt, "1", positive,
          "The length of one of those samples."),

      // --- Sluice's own.
      Def("sluice.network.shards", T::kInt, "0", non_negative,
          "Number of network shards (threads, one io_context each); 0: num.network.threads if "
          "set explicitly, else one per core."),
      Def("sluice.connection.max.inflight.requests", T::kInt, "100", positive,
          "Per connection: stop reading while this many requests await their response."),
      Def("sluice.connection.max.queued.bytes", T::kLong, "33554432", positive,
          "Per connection: stop reading while this many response bytes await writing."),
      Def("sluice.shutdown.grace.ms", T::kLong, "10000", non_negative,
          "On SIGTERM, how long in-flight requests may take before connections are closed."),
      Def("sluice.log.flush.group.min.partitions", T::kInt, "8", non_negative,
          "When this many partitions await a sync at once (in the flusher, or appended by one "
          "follower fetch), make them durable together with one "
          "syncfs of their file system instead of one fdatasync each (this also flushes other "
          "writers' data there); 0: always one fdatasync per partition."),
      Def("sluice.log.preallocate.bytes", T::kLong, "262144", non_negative,
          "Partitions whose syncs are small (acks=all at a modest rate) get their active segment "
          "zero-filled this far ahead of the data, so each fdatasync writes no metadata; cut off "
          "when the segment rolls or the broker stops. 0: never."),
      Def("sluice.log.max.open.files", T::kInt, "0", non_negative,
          "Segment files kept open at once, across all partitions: the least recently used is "
          "closed past this and reopened on demand (LevelDB's table cache), so the descriptors "
          "stay bounded whatever the number of partitions. 0: three quarters of the open-file "
          "limit (raised to its hard limit at start-up), the rest left for connections."),
      Def("sluice.broker.max.partitions", T::kInt, "200000", positive,
          "Most partitions this broker holds, over all topics (what KIP-578 proposed as "
          "max.broker.partitions): a CreateTopics or CreatePartitions past it is refused whole "
          "with POLICY_VIOLATION. Memory and start-up time grow with partitions; the open files "
          "do not (sluice.log.max.open.files)."),
      Def("sluice.metrics.listener", T::kString, "127.0.0.1:9644", ValidHostPortOrEmpty(),
          "host:port of the HTTP metrics endpoint; empty disables it."),
      Def("sluice.log.level", T::kString, "info",
          OneOf({"trace", "debug", "info", "warn", "error", "critical", "off"}),
          "Broker log level."),
  };
}

}  // namespace

ConfigRegistry::ConfigRegistry(std::vector<ConfigDef> defs) : defs_(std::move(defs)) {
  for (size_t i = 0; i < defs_.size(); ++i) index_.emplace(defs_[i].name, i);
}

const ConfigDef* ConfigRegistry::Find(std::string_view name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &defs_[it->second];
}

const ConfigRegistry& BrokerConfigRegistry() {
  static const ConfigRegistry registry(MakeBrokerDefs());
  return registry;
}

}  // namespace sluice::config
