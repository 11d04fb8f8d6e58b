#include "api/group_member.h"

#include <cstdlib>
#include <iostream>

namespace sluice::testing {

GroupMember::GroupMember(const std::string& bootstrap, const std::string& group,
                         const std::string& topic, const std::map<std::string, std::string>& conf) {
  std::map<std::string, std::string> settings = {
      {"bootstrap.servers", bootstrap},
      {"group.id", group},
      {"auto.offset.reset", "earliest"},
      {"enable.auto.commit", "false"},
      {"session.timeout.ms", "6000"},
      {"heartbeat.interval.ms", "500"},
      {"topic.metadata.refresh.interval.ms", "1000"},
  };
  for (const auto& [k, v] : conf) settings[k] = v;
  std::unique_ptr<RdKafka::Conf> c(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  std::string err;
  for (const auto& [k, v] : settings) {
    if (c->set(k, v, err) != RdKafka::Conf::CONF_OK) {
      std::cerr << "bad consumer setting " << k << ": " << err << "\n";
      std::abort();
    }
  }
  if (c->set("rebalance_cb", static_cast<RdKafka::RebalanceCb*>(this), err) !=
      RdKafka::Conf::CONF_OK) {
    std::abort();
  }
  consumer_.reset(RdKafka::KafkaConsumer::create(c.get(), err));
  if (!consumer_) {
    std::cerr << "cannot create consumer: " << err << "\n";
    std::abort();
  }
  consumer_->subscribe({topic});
  thread_ = std::thread([this] { Run(); });
}

GroupMember::~GroupMember() { Close(); }

void GroupMember::Run() {
  while (!stop_) {
    std::unique_ptr<RdKafka::Message> m(consumer_->consume(50));
    if (m->err() != RdKafka::ERR_NO_ERROR || paused_) continue;
    ConsumedMessage c;
    c.partition = m->partition();
    c.offset = m->offset();
    if (m->key() != nullptr) c.key = *m->key();
    if (m->payload() != nullptr) c.value.emplace(static_cast<const char*>(m->payload()), m->len());
    std::lock_guard lock(mu_);
    messages_.push_back(std::move(c));
  }
}

void GroupMember::rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                               std::vector<RdKafka::TopicPartition*>& partitions) {
  Event e;
  e.assigned = err == RdKafka::ERR__ASSIGN_PARTITIONS;
  for (auto* tp : partitions) e.partitions.insert(tp->partition());
  const bool cooperative = consumer->rebalance_protocol() == "COOPERATIVE";
  if (cooperative) {
    if (e.assigned) {
      delete consumer->incremental_assign(partitions);
    } else {
      delete consumer->incremental_unassign(partitions);
    }
  } else if (e.assigned) {
    consumer->assign(partitions);
  } else {
    consumer->unassign();
  }
  std::lock_guard lock(mu_);
  if (e.assigned) {
    if (!cooperative) owned_.clear();
    owned_.insert(e.partitions.begin(), e.partitions.end());
  } else if (cooperative) {
    for (int32_t p : e.partitions) owned_.erase(p);
  } else {
    owned_.clear();
  }
  events_.push_back(std::move(e));
}

std::set<int32_t> GroupMember::owned() {
  std::lock_guard lock(mu_);
  return owned_;
}

std::vector<GroupMember::Event> GroupMember::events() {
  std::lock_guard lock(mu_);
  return events_;
}

std::vector<ConsumedMessage> GroupMember::messages() {
  std::lock_guard lock(mu_);
  return messages_;
}

size_t GroupMember::message_count() {
  std::lock_guard lock(mu_);
  return messages_.size();
}

RdKafka::ErrorCode GroupMember::Commit(const std::string& topic,
                                       const std::map<int32_t, int64_t>& offsets) {
  std::vector<RdKafka::TopicPartition*> list;
  for (const auto& [p, o] : offsets) list.push_back(RdKafka::TopicPartition::create(topic, p, o));
  RdKafka::ErrorCode err = consumer_->commitSync(list);
  for (auto* tp : list) {
    if (err == RdKafka::ERR_NO_ERROR && tp->err() != RdKafka::ERR_NO_ERROR) err = tp->err();
  }
  RdKafka::TopicPartition::destroy(list);
  return err;
}

std::map<int32_t, int64_t> GroupMember::Committed(const std::string& topic, int partitions) {
  std::vector<RdKafka::TopicPartition*> list;
  for (int p = 0; p < partitions; ++p) list.push_back(RdKafka::TopicPartition::create(topic, p));
  std::map<int32_t, int64_t> out;
  if (consumer_->committed(list, 10000) == RdKafka::ERR_NO_ERROR) {
    for (auto* tp : list) out[tp->partition()] = tp->offset();
  }
  RdKafka::TopicPartition::destroy(list);
  return out;
}

void GroupMember::Close() {
  if (!consumer_) return;
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  consumer_->close();
  consumer_.reset();
}

bool WaitUntil(const std::function<bool()>& predicate, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < deadline) {
    if (predicate()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return predicate();
}

}  // namespace sluice::testing
