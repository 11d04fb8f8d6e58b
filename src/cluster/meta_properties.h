// meta.properties: the identity a data directory belongs to, as Kafka keeps
// it (version, broker.id, cluster.id). Created on first start; later starts
// refuse a directory that belongs to another broker id, so two brokers
// cannot end up writing one directory, and a broker joining a cluster
// refuses a directory of another cluster.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>

#include "base/status.h"
#include "storage/file.h"

namespace sluice::cluster {

// Files the broker keeps in a data directory beside the partition logs.
inline constexpr char kMetaPropertiesFile[] = "meta.properties";
inline constexpr char kMetadataDir[] = "sluice-metadata";  // topic table, producer ids

struct MetaProperties {
  int32_t broker_id = 0;
  std::string cluster_id;  // 22 characters of URL-safe base64, like Kafka's.
};

// A new random cluster id.
std::string NewClusterId();

// Reads `<dir>/meta.properties`; nullopt if there is none (a fresh data
// directory). Corruption if it is unreadable.
Result<std::optional<MetaProperties>> ReadMetaProperties(storage::FileSystem* fs,
                                                         const std::filesystem::path& dir);

// Reads `<dir>/meta.properties`, or creates it with `broker_id` and
// `cluster_id` (a new random id if empty), written atomically through `fs`.
// InvalidArgument if it names another broker id, or another cluster id than
// a non-empty `cluster_id` (the id of the cluster the broker joins).
// REQUIRES: `dir` exists.
Result<MetaProperties> LoadOrCreateMetaProperties(storage::FileSystem* fs,
                                                  const std::filesystem::path& dir,
                                                  int32_t broker_id,
                                                  const std::string& cluster_id = "");

}  // namespace sluice::cluster
