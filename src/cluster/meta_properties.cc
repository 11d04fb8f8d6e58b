#include "cluster/meta_properties.h"

#include <map>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "base/base64url.h"
#include "cluster/topic_table.h"

namespace sluice::cluster {

std::string NewClusterId() {
  const TopicId id = NewTopicId();
  return Base64UrlEncode(id);  // 22 characters, as Kafka's cluster ids
}

Result<std::optional<MetaProperties>> ReadMetaProperties(storage::FileSystem* fs,
                                                         const std::filesystem::path& dir) {
  const auto path = dir / kMetaPropertiesFile;
  Result<std::string> text = storage::ReadWholeTextFile(fs, path);
  if (!text.ok() && text.status().IsNotFound()) return std::optional<MetaProperties>();
  if (!text.ok()) return text.status();
  std::istringstream in(*text);
  std::map<std::string, std::string> values;
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    auto eq = line.find('=');
    if (eq != std::string::npos) values[line.substr(0, eq)] = line.substr(eq + 1);
  }
  MetaProperties meta;
  meta.cluster_id = values["cluster.id"];
  if (meta.cluster_id.empty()) return Status::Corruption(fmt::format("{}: no cluster.id", path.string()));
  try {
    meta.broker_id = std::stoi(values["broker.id"]);
  } catch (...) {
    return Status::Corruption(fmt::format("{}: bad broker.id", path.string()));
  }
  return std::optional<MetaProperties>(std::move(meta));
}

Result<MetaProperties> LoadOrCreateMetaProperties(storage::FileSystem* fs,
                                                  const std::filesystem::path& dir,
                                                  int32_t broker_id,
                                                  const std::string& cluster_id) {
  auto existing = ReadMetaProperties(fs, dir);
  if (!existing.ok()) return existing.status();
  if (!existing->has_value()) {
    MetaProperties meta{broker_id, cluster_id.empty() ? NewClusterId() : cluster_id};
    SLUICE_RETURN_IF_ERROR(storage::WriteFileAtomically(
        fs, dir, kMetaPropertiesFile,
        fmt::format("#Written by sluice-broker\nversion=0\nbroker.id={}\ncluster.id={}\n",
                    meta.broker_id, meta.cluster_id)));
    return meta;
  }
  const MetaProperties& meta = **existing;
  const auto path = dir / kMetaPropertiesFile;
  if (meta.broker_id != broker_id) {
    return Status::InvalidArgument(fmt::format(
        "{} belongs to broker.id {}, but this broker is configured with broker.id {}",
        path.string(), meta.broker_id, broker_id));
  }
  if (!cluster_id.empty() && meta.cluster_id != cluster_id) {
    return Status::InvalidArgument(fmt::format(
        "{} belongs to cluster {}, but this broker is joining cluster {}", path.string(),
        meta.cluster_id, cluster_id));
  }
  return meta;
}

}  // namespace sluice::cluster
