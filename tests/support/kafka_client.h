// Helpers for integration tests that drive the real broker with librdkafka
// (the C++ API; admin calls through the C API on the same handle).
#pragma once

#include <librdkafka/rdkafkacpp.h>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace sluice::testing {

// Sets `key` on `conf`, or aborts the test binary: a bad setting is a bug in
// the test itself.
void SetOrDie(RdKafka::Conf* conf, const std::string& key, const std::string& value);

struct ConsumedMessage {
  int32_t partition = 0;
  int64_t offset = 0;
  std::optional<std::string> key;
  std::optional<std::string> value;
  std::vector<std::pair<std::string, std::optional<std::string>>> headers;
  int64_t timestamp = 0;
};

class KafkaClient {
 public:
  explicit KafkaClient(std::string bootstrap) : bootstrap_(std::move(bootstrap)) {}

  // Admin calls: the Kafka error code of the topic's result (0 = success).
  int CreateTopic(const std::string& topic, int partitions, int replication_factor = 1,
                  const std::map<std::string, std::string>& configs = {});
  // With an explicit replica assignment: broker ids per partition, the
  // first of each the preferred leader.
  int CreateTopic(const std::string& topic, const std::vector<std::vector<int32_t>>& assignment,
                  const std::map<std::string, std::string>& configs = {});
  int DeleteTopic(const std::string& topic);

  // A producer with `conf` applied over test defaults. Aborts the test
  // binary on a configuration error (a bug in the test itself).
  std::unique_ptr<RdKafka::Producer> MakeProducer(
      const std::map<std::string, std::string>& conf = {});

  // Reads partitions [0, partitions) of `topic` from offset 0 with assign()
  // until `expected` messages arrived or `timeout` passed.
  std::vector<ConsumedMessage> ConsumeAll(const std::string& topic, int partitions,
                                          size_t expected,
                                          std::chrono::milliseconds timeout = std::chrono::seconds(30),
                                          const std::map<std::string, std::string>& conf = {});

  // The same for one partition.
  std::vector<ConsumedMessage> ConsumePartition(
      const std::string& topic, int partition, size_t expected,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // One partition from its log start (which retention or DeleteRecords may
  // have moved past 0) up to the end the broker reports (partition EOF).
  std::vector<ConsumedMessage> ConsumePartitionToEnd(
      const std::string& topic, int partition,
      std::chrono::milliseconds timeout = std::chrono::seconds(30));

  const std::string& bootstrap() const { return bootstrap_; }

 private:
  // Reads `partitions` from `start_offset` until `expected` messages, the end
  // of every partition (with `stop_at_end`), or `timeout`.
  std::vector<ConsumedMessage> Consume(const std::string& topic, const std::vector<int>& partitions,
                                       int64_t start_offset, size_t expected, bool stop_at_end,
                                       std::chrono::milliseconds timeout,
                                       const std::map<std::string, std::string>& conf);

  std::string bootstrap_;
};

// Filled by the delivery report of a message produced with a pointer to it
// as msg_opaque (producers from KafkaClient::MakeProducer install the
// callback that does this).
struct DeliveryResult {
  RdKafka::ErrorCode err = RdKafka::ERR__TIMED_OUT;
  int64_t offset = -1;
  int32_t partition = -1;
  bool done = false;
};

// Produces one message (RdKafka::Topic::PARTITION_UA lets the partitioner
// choose) and polls until its delivery report arrives.
DeliveryResult ProduceSync(RdKafka::Producer& producer, const std::string& topic,
                           int32_t partition, const std::optional<std::string>& key,
                           const std::optional<std::string>& value,
                           RdKafka::Headers* headers = nullptr);

}  // namespace sluice::testing
