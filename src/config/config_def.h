// ConfigDef: the declaration of one configuration property (name, type,
// default, validator, documentation), and ParseConfigValue, which turns the
// text of a properties file into a checked ConfigValue. Immutable; the
// registries built from these are thread-safe to read.
#pragma once

#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/status.h"
#include "config/config_types.h"

namespace sluice::config {

// The largest long as a default: "no limit" for counts and times.
inline constexpr const char* kLongMax = "9223372036854775807";

// Returns a message (without the key) when the value is unacceptable.
using Validator = std::function<std::optional<std::string>(const ConfigValue&)>;

// How Sluice treats a Kafka property.
enum class Support {
  kSupported,  // Honoured.
  kIgnored,    // Accepted so Kafka's server.properties works; no effect (logged at start-up).
};

struct ConfigDef {
  std::string name;
  ConfigType type = ConfigType::kString;
  std::optional<std::string> default_text;  // nullopt: null default.
  Validator validator;                      // Empty: any value of the type.
  std::string doc;
  Support support = Support::kSupported;
  bool read_only = true;  // No dynamic update of this key (all broker keys, for now).

  bool sensitive() const { return type == ConfigType::kPassword; }
};

// Parses `text` (trimmed first, as Kafka does) as `def`'s type and runs its
// validator. Errors name the key and the value.
Result<ConfigValue> ParseConfigValue(const ConfigDef& def, std::string_view text);
// The default, parsed (a registry bug if it does not parse).
ConfigValue DefaultValue(const ConfigDef& def);

// Validator factories.
Validator AtLeast(int64_t min);
Validator Between(double min, double max);
Validator OneOf(std::initializer_list<const char*> allowed);        // Case-sensitive strings.
Validator ListOf(std::initializer_list<const char*> allowed);       // Every element allowed.
Validator All(std::vector<Validator> validators);

}  // namespace sluice::config
