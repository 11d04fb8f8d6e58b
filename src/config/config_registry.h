// ConfigRegistry: a fixed set of ConfigDefs looked up by name. The broker's
// and the topic-level registries are built once and never change, so they are
// safe to read from any thread.
#pragma once

#include <string_view>
#include <unordered_map>
#include <vector>

#include "config/config_def.h"

namespace sluice::config {

class ConfigRegistry {
 public:
  explicit ConfigRegistry(std::vector<ConfigDef> defs);

  const ConfigDef* Find(std::string_view name) const;
  const std::vector<ConfigDef>& defs() const { return defs_; }

 private:
  std::vector<ConfigDef> defs_;
  std::unordered_map<std::string_view, size_t> index_;
};

// Every broker property Sluice knows (Kafka's names plus "sluice.*" ones).
const ConfigRegistry& BrokerConfigRegistry();

}  // namespace sluice::config
