// Types shared by broker and topic configuration: Kafka's config types and
// sources (numbered as DescribeConfigs v3+ sends them), a parsed value, and
// what DescribeConfigs reports about one entry.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace sluice::config {

// DescribeConfigsResponse config_type.
enum class ConfigType : int8_t {
  kBoolean = 1,
  kString = 2,
  kInt = 3,
  kShort = 4,
  kLong = 5,
  kDouble = 6,
  kList = 7,
  kClass = 8,
  kPassword = 9,
};

// DescribeConfigsResponse config_source.
enum class ConfigSource : int8_t {
  kUnknown = 0,
  kDynamicTopic = 1,
  kDynamicBroker = 2,
  kDynamicDefaultBroker = 3,
  kStaticBroker = 4,
  kDefault = 5,
};

const char* ConfigTypeName(ConfigType type);
const char* ConfigSourceName(ConfigSource source);

// monostate is Kafka's null (no value, e.g. log.retention.ms unset).
// INT and SHORT are int32_t; STRING, CLASS and PASSWORD are std::string.
using ConfigValue = std::variant<std::monostate, bool, int32_t, int64_t, double, std::string,
                                 std::vector<std::string>>;

// Renders a value as Kafka shows it: "true", "1048588", "0.5", "a,b";
// null as nullopt.
std::optional<std::string> FormatConfigValue(const ConfigValue& value);

struct ConfigSynonym {
  std::string name;
  std::optional<std::string> value;
  ConfigSource source = ConfigSource::kDefault;
};

// One row of DescribeConfigs.
struct ConfigEntry {
  std::string name;
  std::optional<std::string> value;  // Null when unset or sensitive.
  ConfigSource source = ConfigSource::kDefault;
  ConfigType type = ConfigType::kString;
  bool sensitive = false;
  bool read_only = true;
  std::string documentation;
  std::vector<ConfigSynonym> synonyms;
};

}  // namespace sluice::config
