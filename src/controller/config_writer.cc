#include "controller/config_writer.h"

#include <vector>

#include <fmt/format.h>

#include "zk/znodes.h"

namespace sluice::controller {

using zk::ZkCode;

Result<std::map<std::string, std::string>> ChangeEntityConfig(
    zk::ZkClient& zk, const std::string& type, const std::string& name,
    const std::function<Status()>& precondition, const ConfigEditFn& edit, bool validate_only) {
  const std::string parent = fmt::format("/config/{}", type);
  const std::string path = fmt::format("{}/{}", parent, name);
  for (int attempt = 0; attempt < 5; ++attempt) {
    if (precondition) SLUICE_RETURN_IF_ERROR(precondition());
    auto node = zk.Get(path);
    if (!node.ok() && node.code() != ZkCode::kNoNode) return Status::IOError(node.error().message());
    std::map<std::string, std::string> config;
    if (node.ok()) {
      auto current = zk::DecodeTopicConfig(node->data);
      if (!current.ok()) return Status::Corruption(current.status().message());
      config = std::move(current).value();
    }
    SLUICE_RETURN_IF_ERROR(edit(config));
    if (validate_only) return config;
    for (const std::string& p : {parent, std::string(zk::kConfigChangesPath)}) {
      zk::ZkError e = zk.CreateRecursive(p);
      if (!e.ok()) return Status::IOError(e.message());
    }
    const std::string data = zk::EncodeTopicConfig(config);
    std::vector<zk::ZkOp> ops;
    ops.push_back(node.ok() ? zk::ZkOp::Set(path, data, node->stat.version)
                            : zk::ZkOp::Create(path, data));
    ops.push_back(zk::ZkOp::Create(zk::ConfigChangePath(), zk::EncodeConfigChange({type, name}),
                                   zk::CreateMode::kPersistentSequential));
    zk::ZkError e = zk.Multi(ops);
    if (e.ok()) return config;
    // Another writer came between (or a deletion removed the node): read
    // and decide again.
    if (e.code() != ZkCode::kBadVersion && e.code() != ZkCode::kNodeExists &&
        e.code() != ZkCode::kNoNode) {
      return Status::IOError(e.message());
    }
  }
  return Status::IOError(
      fmt::format("the config of {} '{}' kept changing while it was altered", type, name));
}

Result<std::map<std::string, std::string>> ChangeBrokerConfig(zk::ZkClient& zk,
                                                              const std::string& entity,
                                                              const ConfigEditFn& edit,
                                                              bool validate_only) {
  return ChangeEntityConfig(zk, "brokers", entity, nullptr, edit, validate_only);
}

Result<std::map<std::string, std::string>> ReadBrokerConfig(zk::ZkClient& zk,
                                                            const std::string& entity) {
  auto node = zk.Get(zk::BrokerConfigPath(entity));
  if (node.code() == ZkCode::kNoNode) return std::map<std::string, std::string>{};
  if (!node.ok()) return Status::IOError(node.error().message());
  auto config = zk::DecodeTopicConfig(node->data);
  if (!config.ok()) return Status::Corruption(config.status().message());
  return std::move(config).value();
}

}  // namespace sluice::controller
