// meta.properties: the identity a data directory belongs to, as Kafka keeps
// it (version, broker.id, cluster.id). Created on first start; later starts
// refuse a directory that belongs to another broker id, so two brokers
// cannot end up writing one directory.
#pragma once

#include <cstdint>
#include <filesystem>
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

// Reads `<dir>/meta.properties`, or creates it with `broker_id` and a new
// random cluster id, written atomically through `fs`. InvalidArgument if it
// names another broker id. REQUIRES: `dir` exists.
Result<MetaProperties> LoadOrCreateMetaProperties(storage::FileSystem* fs,
                                                  const std::filesystem::path& dir,
                                                  int32_t broker_id);

}  // namespace sluice::cluster
