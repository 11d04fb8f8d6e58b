#include "cluster/meta_properties.h"

#include <map>
#include <sstream>
#include <string>

#include <fmt/format.h>

#include "cluster/topic_table.h"

namespace sluice::cluster {
namespace {

std::string NewClusterId() {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  const TopicId id = NewTopicId();
  // 128 bits as 22 base64 characters (the last one carries 2 bits).
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (uint8_t b : id) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 6) {
      out += kAlphabet[(acc >> (bits - 6)) & 0x3F];
      bits -= 6;
    }
  }
  if (bits > 0) out += kAlphabet[(acc << (6 - bits)) & 0x3F];
  return out;
}

}  // namespace

Result<MetaProperties> LoadOrCreateMetaProperties(storage::FileSystem* fs,
                                                  const std::filesystem::path& dir,
                                                  int32_t broker_id) {
  const auto path = dir / kMetaPropertiesFile;
  Result<std::string> text = storage::ReadWholeTextFile(fs, path);
  if (!text.ok() && !text.status().IsNotFound()) return text.status();
  if (!text.ok()) {
    MetaProperties meta{broker_id, NewClusterId()};
    SLUICE_RETURN_IF_ERROR(storage::WriteFileAtomically(
        fs, dir, kMetaPropertiesFile,
        fmt::format("#Written by sluice-broker\nversion=0\nbroker.id={}\ncluster.id={}\n",
                    meta.broker_id, meta.cluster_id)));
    return meta;
  }
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
  if (meta.broker_id != broker_id) {
    return Status::InvalidArgument(fmt::format(
        "{} belongs to broker.id {}, but this broker is configured with broker.id {}",
        path.string(), meta.broker_id, broker_id));
  }
  return meta;
}

}  // namespace sluice::cluster
