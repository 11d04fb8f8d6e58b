// BrokerConfig: the broker's effective configuration: registry defaults, then
// the properties file, then --override values (later wins). Every unknown key
// and invalid value is reported at once, each naming its key and where it
// came from. Immutable once built; safe to read from any thread.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/config_registry.h"
#include "config/config_types.h"
#include "config/listener.h"
#include "config/properties.h"

namespace sluice::config {

class BrokerConfig {
 public:
  // All defaults.
  BrokerConfig();

  // `overrides` are "key=value" strings as given to --override.
  // InvalidArgument lists every problem, one per line.
  static Result<BrokerConfig> Build(const std::vector<PropertyEntry>& file_entries,
                                    std::string_view file_name,
                                    const std::vector<std::string>& overrides);
  // Reads `properties_path` (if any) and applies `overrides`.
  static Result<BrokerConfig> Load(const std::optional<std::string>& properties_path,
                                   const std::vector<std::string>& overrides);

  // Typed access by key. The key must be a broker key of that type: anything
  // else is a programming error and aborts.
  const ConfigValue& Get(std::string_view name) const;
  bool GetBool(std::string_view name) const;
  int32_t GetInt(std::string_view name) const;  // INT and SHORT.
  int64_t GetLong(std::string_view name) const;
  double GetDouble(std::string_view name) const;
  const std::string& GetString(std::string_view name) const;
  const std::vector<std::string>& GetList(std::string_view name) const;
  bool IsNull(std::string_view name) const;
  // Set in the file or by an override (STATIC_BROKER_CONFIG), or default.
  bool IsSet(std::string_view name) const;
  ConfigSource SourceOf(std::string_view name) const;

  // Values with Kafka's synonyms resolved.
  int32_t broker_id() const;                                  // broker.id / node.id
  std::vector<std::string> log_dirs() const;                  // log.dirs / log.dir
  const std::vector<Listener>& listeners() const { return listeners_; }
  const std::vector<Listener>& advertised_listeners() const { return advertised_; }
  int64_t log_retention_ms() const;      // log.retention.{ms,minutes,hours}; -1: forever.
  int64_t log_roll_ms() const;           // log.roll.{ms,hours}
  int64_t log_roll_jitter_ms() const;    // log.roll.jitter.{ms,hours}
  int64_t log_flush_interval_ms() const; // log.flush.interval.ms / log.flush.scheduler.interval.ms
  // zookeeper.connect; nullopt: a single node (no ZooKeeper, no cluster).
  std::optional<std::string> zookeeper_connect() const;
  // zookeeper.connection.timeout.ms, defaulting to zookeeper.session.timeout.ms.
  int32_t zookeeper_connection_timeout_ms() const;
  std::optional<std::string> rack() const;  // broker.rack
  // Shards to run: sluice.network.shards, else num.network.threads if set,
  // else 0 (meaning one per core).
  int network_shards() const;

  // Keys set explicitly that Sluice accepts but ignores (warned at start-up).
  std::vector<std::string> IgnoredKeysSet() const;
  // Every broker key, as DescribeConfigs reports it.
  std::vector<ConfigEntry> Describe() const;

 private:
  size_t IndexOf(std::string_view name) const;
  Status CheckCrossField();

  std::vector<ConfigValue> values_;  // Parallel to BrokerConfigRegistry().defs().
  std::vector<bool> set_;
  std::vector<Listener> listeners_;
  std::vector<Listener> advertised_;
};

}  // namespace sluice::config
