// GroupMember: one librdkafka KafkaConsumer in a consumer group, polled on
// its own thread, recording what the group coordinator gave it: the
// partitions it owns (eager or cooperative rebalances), every rebalance
// event, and the messages it read. For the group integration tests.
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "support/kafka_client.h"

namespace sluice::testing {

class GroupMember : public RdKafka::RebalanceCb {
 public:
  struct Event {
    bool assigned = false;  // false: revoked
    std::set<int32_t> partitions;
  };

  // Subscribes to `topic` in `group` with `conf` over test defaults
  // (earliest offsets, manual commits off unless set, 6 s sessions).
  GroupMember(const std::string& bootstrap, const std::string& group, const std::string& topic,
              const std::map<std::string, std::string>& conf = {});
  ~GroupMember() override;

  std::set<int32_t> owned();
  std::vector<Event> events();
  std::vector<ConsumedMessage> messages();
  size_t message_count();
  // Commits exactly these next-offsets (partition -> offset) synchronously.
  RdKafka::ErrorCode Commit(const std::string& topic, const std::map<int32_t, int64_t>& offsets);
  std::map<int32_t, int64_t> Committed(const std::string& topic, int partitions);
  // Stops polling; Close() leaves the group, Abandon() does not (the consumer
  // is destroyed without close(), as by a crash of the client).
  void Close();
  // Stops consuming (no more messages recorded) but keeps polling, so the
  // member stays in the group.
  void Pause() { paused_ = true; }

  void rebalance_cb(RdKafka::KafkaConsumer* consumer, RdKafka::ErrorCode err,
                    std::vector<RdKafka::TopicPartition*>& partitions) override;

 private:
  void Run();

  std::unique_ptr<RdKafka::KafkaConsumer> consumer_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> paused_{false};
  std::thread thread_;
  std::mutex mu_;
  std::set<int32_t> owned_;
  std::vector<Event> events_;
  std::vector<ConsumedMessage> messages_;
};

// Polls `predicate` every 50 ms until it holds or `timeout` passes.
bool WaitUntil(const std::function<bool()>& predicate, std::chrono::milliseconds timeout);

}  // namespace sluice::testing
