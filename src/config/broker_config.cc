#include "config/broker_config.h"

#include <cstdlib>
#include <limits>

#include <fmt/format.h>

namespace sluice::config {

namespace {

template <typename V>
const V& Expect(const ConfigValue& value, std::string_view name) {
  const V* v = std::get_if<V>(&value);
  if (v == nullptr) {
    fmt::print(stderr, "BUG: configuration '{}' read with the wrong type\n", name);
    std::abort();
  }
  return *v;
}

// ms * factor, saturating instead of overflowing.
int64_t Scale(int64_t value, int64_t factor) {
  if (value > std::numeric_limits<int64_t>::max() / factor) {
    return std::numeric_limits<int64_t>::max();
  }
  return value * factor;
}

}  // namespace

BrokerConfig::BrokerConfig() {
  const auto& defs = BrokerConfigRegistry().defs();
  values_.reserve(defs.size());
  for (const ConfigDef& def : defs) values_.push_back(DefaultValue(def));
  set_.assign(defs.size(), false);
  listeners_ = ParseListeners(GetString("listeners"), *ParseProtocolMap(GetString(
                                                          "listener.security.protocol.map")))
                   .value();
  advertised_ = listeners_;
}

Result<BrokerConfig> BrokerConfig::Build(const std::vector<PropertyEntry>& file_entries,
                                         std::string_view file_name,
                                         const std::vector<std::string>& overrides) {
  BrokerConfig config;
  const ConfigRegistry& registry = BrokerConfigRegistry();
  std::vector<std::string> problems;

  auto apply = [&](std::string_view key, std::string_view value, const std::string& where) {
    const ConfigDef* def = registry.Find(key);
    if (def == nullptr) {
      problems.push_back(fmt::format("{}: unknown configuration '{}'", where, key));
      return;
    }
    auto parsed = ParseConfigValue(*def, value);
    if (!parsed.ok()) {
      problems.push_back(fmt::format("{}: {}", where, parsed.status().message()));
      return;
    }
    const size_t i = static_cast<size_t>(def - registry.defs().data());
    config.values_[i] = std::move(parsed).value();
    config.set_[i] = true;
  };

  for (const PropertyEntry& entry : file_entries) {
    apply(entry.key, entry.value, fmt::format("{}:{}", file_name, entry.line));
  }
  for (const std::string& override_text : overrides) {
    const size_t eq = override_text.find('=');
    if (eq == std::string::npos || eq == 0) {
      problems.push_back(
          fmt::format("--override '{}': expected key=value", override_text));
      continue;
    }
    const std::string key = override_text.substr(0, eq);
    const std::string value = override_text.substr(eq + 1);
    apply(key, value, fmt::format("--override {}", key));
  }
  if (problems.empty()) {
    Status cross = config.CheckCrossField();
    if (!cross.ok()) problems.push_back(cross.message());
  }
  if (!problems.empty()) {
    std::string message = fmt::format("invalid configuration ({} problem{}):", problems.size(),
                                      problems.size() == 1 ? "" : "s");
    for (const auto& p : problems) message += "\n  " + p;
    return Status::InvalidArgument(std::move(message));
  }
  return config;
}

Result<BrokerConfig> BrokerConfig::Load(const std::optional<std::string>& properties_path,
                                        const std::vector<std::string>& overrides) {
  std::vector<PropertyEntry> entries;
  if (properties_path) {
    auto read = ReadPropertiesFile(*properties_path);
    if (!read.ok()) return read.status();
    entries = std::move(read).value();
  }
  return Build(entries, properties_path.value_or(""), overrides);
}

Status BrokerConfig::CheckCrossField() {
  std::vector<std::string> problems;
  if (!IsNull("node.id") && IsSet("broker.id") && GetInt("node.id") != GetInt("broker.id")) {
    problems.push_back(fmt::format("broker.id ({}) and node.id ({}) disagree", GetInt("broker.id"),
                                   GetInt("node.id")));
  }
  auto map = ParseProtocolMap(GetString("listener.security.protocol.map"));
  if (!map.ok()) return map.status();  // Already validated; cannot happen.
  auto listeners = ParseListeners(GetString("listeners"), *map);
  if (!listeners.ok()) {
    problems.push_back("listeners: " + listeners.status().message());
  } else {
    listeners_ = std::move(listeners).value();
    if (listeners_.empty()) problems.push_back("listeners: at least one listener is required");
    for (const Listener& l : listeners_) {
      if (l.security_protocol != "PLAINTEXT") {
        problems.push_back(fmt::format(
            "listeners: listener '{}' uses security protocol {}, which Sluice does not support",
            l.name, l.security_protocol));
      }
    }
  }
  if (IsNull("advertised.listeners")) {
    advertised_ = listeners_;
  } else {
    auto advertised = ParseListeners(GetString("advertised.listeners"), *map);
    if (!advertised.ok()) {
      problems.push_back("advertised.listeners: " + advertised.status().message());
    } else {
      advertised_ = std::move(advertised).value();
      for (const Listener& a : advertised_) {
        bool found = false;
        for (const Listener& l : listeners_) found = found || l.name == a.name;
        if (!found) {
          problems.push_back(fmt::format(
              "advertised.listeners: listener '{}' is not in listeners", a.name));
        }
        if (a.host.empty() || a.host == "0.0.0.0") {
          problems.push_back(fmt::format(
              "advertised.listeners: listener '{}' must advertise a concrete host", a.name));
        }
      }
    }
  }
  if (log_dirs().empty()) problems.push_back("log.dirs: at least one directory is required");
  if (GetInt("group.min.session.timeout.ms") > GetInt("group.max.session.timeout.ms")) {
    problems.push_back(
        "group.min.session.timeout.ms is larger than group.max.session.timeout.ms");
  }
  if (problems.empty()) return Status::Ok();
  std::string joined = problems[0];
  for (size_t i = 1; i < problems.size(); ++i) joined += "\n  " + problems[i];
  return Status::InvalidArgument(joined);
}

size_t BrokerConfig::IndexOf(std::string_view name) const {
  const ConfigRegistry& registry = BrokerConfigRegistry();
  const ConfigDef* def = registry.Find(name);
  if (def == nullptr) {
    fmt::print(stderr, "BUG: unknown broker configuration '{}' read\n", name);
    std::abort();
  }
  return static_cast<size_t>(def - registry.defs().data());
}

const ConfigValue& BrokerConfig::Get(std::string_view name) const { return values_[IndexOf(name)]; }
bool BrokerConfig::GetBool(std::string_view name) const { return Expect<bool>(Get(name), name); }
int32_t BrokerConfig::GetInt(std::string_view name) const {
  return Expect<int32_t>(Get(name), name);
}
int64_t BrokerConfig::GetLong(std::string_view name) const {
  return Expect<int64_t>(Get(name), name);
}
double BrokerConfig::GetDouble(std::string_view name) const {
  return Expect<double>(Get(name), name);
}
const std::string& BrokerConfig::GetString(std::string_view name) const {
  return Expect<std::string>(Get(name), name);
}
const std::vector<std::string>& BrokerConfig::GetList(std::string_view name) const {
  return Expect<std::vector<std::string>>(Get(name), name);
}
bool BrokerConfig::IsNull(std::string_view name) const {
  return std::holds_alternative<std::monostate>(Get(name));
}
bool BrokerConfig::IsSet(std::string_view name) const { return set_[IndexOf(name)]; }
ConfigSource BrokerConfig::SourceOf(std::string_view name) const {
  return IsSet(name) ? ConfigSource::kStaticBroker : ConfigSource::kDefault;
}

int32_t BrokerConfig::broker_id() const {
  if (!IsSet("broker.id") && !IsNull("node.id")) return GetInt("node.id");
  return GetInt("broker.id");
}

std::vector<std::string> BrokerConfig::log_dirs() const {
  if (!IsNull("log.dirs")) return GetList("log.dirs");
  const std::string& dir = GetString("log.dir");
  if (dir.empty()) return {};
  return {dir};
}

int64_t BrokerConfig::log_retention_ms() const {
  int64_t ms = 0;
  if (!IsNull("log.retention.ms")) {
    ms = GetLong("log.retention.ms");
  } else if (!IsNull("log.retention.minutes")) {
    ms = Scale(GetInt("log.retention.minutes"), 60'000);
  } else {
    ms = Scale(GetInt("log.retention.hours"), 3'600'000);
  }
  return ms < 0 ? -1 : ms;  // Kafka: any negative value means forever.
}

int64_t BrokerConfig::log_roll_ms() const {
  if (!IsNull("log.roll.ms")) return GetLong("log.roll.ms");
  return Scale(GetInt("log.roll.hours"), 3'600'000);
}

int64_t BrokerConfig::log_roll_jitter_ms() const {
  if (!IsNull("log.roll.jitter.ms")) return GetLong("log.roll.jitter.ms");
  return Scale(GetInt("log.roll.jitter.hours"), 3'600'000);
}

int64_t BrokerConfig::log_flush_interval_ms() const {
  if (!IsNull("log.flush.interval.ms")) return GetLong("log.flush.interval.ms");
  return GetLong("log.flush.scheduler.interval.ms");
}

std::optional<std::string> BrokerConfig::zookeeper_connect() const {
  if (IsNull("zookeeper.connect")) return std::nullopt;
  return GetString("zookeeper.connect");
}

int32_t BrokerConfig::zookeeper_connection_timeout_ms() const {
  if (!IsNull("zookeeper.connection.timeout.ms")) return GetInt("zookeeper.connection.timeout.ms");
  return GetInt("zookeeper.session.timeout.ms");
}

std::optional<std::string> BrokerConfig::rack() const {
  if (IsNull("broker.rack")) return std::nullopt;
  return GetString("broker.rack");
}

int BrokerConfig::network_shards() const {
  if (GetInt("sluice.network.shards") > 0) return GetInt("sluice.network.shards");
  if (IsSet("num.network.threads")) return GetInt("num.network.threads");
  return 0;
}

std::vector<std::string> BrokerConfig::IgnoredKeysSet() const {
  std::vector<std::string> keys;
  const auto& defs = BrokerConfigRegistry().defs();
  for (size_t i = 0; i < defs.size(); ++i) {
    if (set_[i] && defs[i].support == Support::kIgnored) keys.push_back(defs[i].name);
  }
  return keys;
}

std::vector<ConfigEntry> BrokerConfig::Describe() const {
  std::vector<ConfigEntry> entries;
  const auto& defs = BrokerConfigRegistry().defs();
  for (size_t i = 0; i < defs.size(); ++i) {
    const ConfigDef& def = defs[i];
    ConfigEntry entry;
    entry.name = def.name;
    entry.sensitive = def.sensitive();
    entry.value = entry.sensitive ? std::nullopt : FormatConfigValue(values_[i]);
    entry.source = set_[i] ? ConfigSource::kStaticBroker : ConfigSource::kDefault;
    entry.type = def.type;
    entry.read_only = def.read_only;
    entry.documentation = def.doc;
    entries.push_back(std::move(entry));
  }
  return entries;
}

}  // namespace sluice::config
