// Dynamic config znodes, in Kafka's ZooKeeper layout: an entity's overrides
// in /config/<type>/<name> ({"version":1,"config":{...}}), each change
// announced by a sequential /config/changes/config_change_<seq> naming
// "<type>/<name>", which every broker watches to re-read the entity
// (broker/config_watcher.h). The node and its announcement are written in
// one transaction, conditional on the version read, so that concurrent
// edits made through different brokers do not lose each other's changes.
//
// Synchronous (a few ZooKeeper round trips): call it from a thread that may
// block, never a network shard.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "base/status.h"
#include "zk/zk_client.h"

namespace sluice::controller {

using ConfigEditFn = std::function<Status(std::map<std::string, std::string>&)>;

// Rewrites the overrides of entity `name` of `type` ("topics", "brokers"):
// `edit` turns the current ones (none if the node is missing) into the new
// ones, or refuses (its error is returned as is). `precondition`, asked
// before each read, may refuse too (a topic that does not exist). A
// concurrent writer (kBadVersion, or the node created meanwhile) makes it
// read and edit again, up to 5 times, so `edit` must be repeatable. With
// `validate_only` nothing is written. Returns the overrides written (or that
// would have been); kIOError with a lost connection: the change may have
// landed.
Result<std::map<std::string, std::string>> ChangeEntityConfig(
    zk::ZkClient& zk, const std::string& type, const std::string& name,
    const std::function<Status()>& precondition, const ConfigEditFn& edit, bool validate_only);

// A broker's dynamic configs: `entity` is its id, or zk::kDefaultBrokerEntity
// for every broker's defaults.
Result<std::map<std::string, std::string>> ChangeBrokerConfig(zk::ZkClient& zk,
                                                              const std::string& entity,
                                                              const ConfigEditFn& edit,
                                                              bool validate_only);

// `entity`'s dynamic configs as ZooKeeper holds them (none if the node is
// missing).
Result<std::map<std::string, std::string>> ReadBrokerConfig(zk::ZkClient& zk,
                                                            const std::string& entity);

}  // namespace sluice::controller
