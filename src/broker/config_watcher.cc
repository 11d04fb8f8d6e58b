#include "broker/config_watcher.h"

#include <algorithm>
#include <optional>
#include <set>
#include <utility>

#include <spdlog/spdlog.h>

#include "controller/config_writer.h"
#include "zk/znodes.h"

namespace sluice::broker {

ConfigWatcher::ConfigWatcher(ConfigWatcherOptions options)
    : options_(std::move(options)) {}

ConfigWatcher::~ConfigWatcher() { Stop(); }

void ConfigWatcher::Start() { Post(/*all=*/true); }

void ConfigWatcher::OnNewSession() { Post(/*all=*/true); }

void ConfigWatcher::Stop() {
  MutexLock lock(&alive_->mu);
  alive_->stopped = true;
}

bool ConfigWatcher::stopped() const {
  MutexLock lock(&alive_->mu);
  return alive_->stopped;
}

void ConfigWatcher::Post(bool all) {
  // Held while posting: Stop() waits for it, so `this` and `run` are alive.
  MutexLock lock(&alive_->mu);
  if (alive_->stopped) return;
  options_.run([this, alive = alive_, all] {
    {
      MutexLock still(&alive->mu);
      if (alive->stopped) return;
    }
    Process(all);
  });
}

void ConfigWatcher::Process(bool all) {
  std::shared_ptr<zk::ZkClient> zk = options_.zk();
  if (zk == nullptr) return;  // Leaving the cluster.
  // The watch is set only on a node that exists.
  if (zk::ZkError e = zk->CreateRecursive(zk::kConfigChangesPath); !e.ok()) {
    spdlog::warn("config changes: cannot create {}: {}", zk::kConfigChangesPath, e.message());
  }
  std::shared_ptr<Alive> alive = alive_;
  auto children = zk->GetChildren(zk::kConfigChangesPath,
                                  [this, alive](zk::WatchEvent event, const std::string&) {
                                    // An expired session is handled by OnNewSession.
                                    if (event == zk::WatchEvent::kSessionEnded) return;
                                    MutexLock lock(&alive->mu);
                                    if (alive->stopped) return;
                                    options_.run([this, alive] {
                                      {
                                        MutexLock still(&alive->mu);
                                        if (alive->stopped) return;
                                      }
                                      Process(/*all=*/false);
                                    });
                                  });
  if (!children.ok()) {
    // Unarmed until the next session (a failure here outlasted the session
    // timeout, so an expiry and OnNewSession follow).
    spdlog::warn("config changes: reading {}: {}", zk::kConfigChangesPath,
                 children.error().message());
    return;
  }
  std::vector<std::pair<int64_t, std::string>> notifications;
  for (const std::string& name : *children) {
    if (auto seq = zk::ConfigChangeSequence(name)) notifications.emplace_back(*seq, name);
  }
  std::sort(notifications.begin(), notifications.end());

  std::set<std::string> topics;
  bool broker_changed = all;
  const std::string own_entity = std::to_string(options_.broker_id);
  if (all) {
    for (std::string& t : options_.hosted_topics()) topics.insert(std::move(t));
  } else {
    for (const auto& [seq, name] : notifications) {
      if (seq <= last_seen_) continue;
      const std::string path = std::string(zk::kConfigChangesPath) + "/" + name;
      auto node = zk->Get(path);
      if (!node.ok()) continue;  // Purged meanwhile: too old to matter.
      auto change = zk::DecodeConfigChange(node->data);
      if (!change.ok()) {
        spdlog::warn("config changes: ignoring {}: {}", path, change.status().message());
        continue;
      }
      // Other entities (clients, users) have no dynamic configs here.
      if (change->entity_type == "topics") topics.insert(change->entity_name);
      if (change->entity_type == "brokers" && (change->entity_name == own_entity ||
                                               change->entity_name == zk::kDefaultBrokerEntity)) {
        broker_changed = true;
      }
    }
    if (!topics.empty()) {
      // Only the topics hosted here have a config to apply.
      std::set<std::string> hosted;
      for (std::string& t : options_.hosted_topics()) hosted.insert(std::move(t));
      std::erase_if(topics, [&hosted](const std::string& t) { return !hosted.contains(t); });
    }
  }
  if (!notifications.empty()) last_seen_ = std::max(last_seen_, notifications.back().first);

  for (const std::string& topic : topics) {
    auto node = zk->Get(zk::TopicConfigPath(topic));
    std::map<std::string, std::string> overrides;
    if (node.ok()) {
      auto decoded = zk::DecodeTopicConfig(node->data);
      if (!decoded.ok()) {
        spdlog::warn("topic {}: unreadable config in ZooKeeper, keeping the current one: {}",
                     topic, decoded.status().message());
        continue;
      }
      overrides = std::move(decoded).value();
    } else if (node.code() != zk::ZkCode::kNoNode) {
      spdlog::warn("topic {}: reading its config: {}", topic, node.error().message());
      continue;
    }
    Status s = options_.apply(topic, overrides);
    if (s.ok()) {
      spdlog::info("topic {}: applied its config from ZooKeeper ({} overrides)", topic,
                   overrides.size());
    } else if (!s.IsNotFound()) {  // NotFound: no longer hosted here.
      spdlog::warn("topic {}: cannot apply its config from ZooKeeper: {}", topic, s.ToString());
    }
  }

  if (broker_changed && options_.apply_broker) ApplyBrokerConfigs(*zk);

  // Kafka's purge: the oldest first, until one is young enough to keep.
  const int64_t expired_before = options_.clock() - options_.purge_after_ms;
  for (const auto& [seq, name] : notifications) {
    const std::string path = std::string(zk::kConfigChangesPath) + "/" + name;
    auto stat = zk->Exists(path);
    if (!stat.ok()) break;
    if (!stat->has_value()) continue;  // Another broker purged it.
    if ((*stat)->ctime_ms >= expired_before) break;
    zk::ZkError e = zk->Delete(path, (*stat)->version);
    if (!e.ok() && e.code() != zk::ZkCode::kNoNode) {
      spdlog::warn("config changes: purging {}: {}", path, e.message());
      break;
    }
  }
}

void ConfigWatcher::ApplyBrokerConfigs(zk::ZkClient& zk) {
  auto own = controller::ReadBrokerConfig(zk, std::to_string(options_.broker_id));
  auto defaults = controller::ReadBrokerConfig(zk, zk::kDefaultBrokerEntity);
  for (const auto* read : {&own, &defaults}) {
    if (!read->ok()) {
      // Kept as they are until the next change or session.
      spdlog::warn("broker configs: reading them from ZooKeeper: {}", read->status().ToString());
      return;
    }
  }
  options_.apply_broker(*own, *defaults);
  spdlog::info("broker configs: applied from ZooKeeper ({} for this broker, {} defaults)",
               own->size(), defaults->size());
}

}  // namespace sluice::broker
