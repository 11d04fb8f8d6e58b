// sluice offsets: per partition, the earliest and latest offsets, and with
// --timestamp the first offset whose message time is at or after it.
#include <fmt/format.h>

#include "tools/commands.h"

namespace sluice::tools {

int RunOffsets(const GlobalOptions& global, const OffsetsOptions& opts) {
  std::unique_ptr<KafkaClient> client;
  MetadataPtr md;
  CommandStatus s = KafkaClient::Connect(global, KafkaClient::Role::kProducer, {}, &client, &md);
  if (!s.ok()) return Finish(s);
  const rd_kafka_metadata_topic_t* topic = nullptr;
  s = KafkaClient::FindTopic(*md, opts.topic, &topic);
  if (!s.ok()) return Finish(s);

  PartitionListPtr by_time(rd_kafka_topic_partition_list_new(topic->partition_cnt));
  for (int32_t p = 0; p < topic->partition_cnt; ++p) {
    rd_kafka_topic_partition_list_add(by_time.get(), opts.topic.c_str(), p)->offset =
        opts.timestamp_ms.value_or(0);
  }
  if (opts.timestamp_ms) {
    rd_kafka_resp_err_t err =
        rd_kafka_offsets_for_times(client->get(), by_time.get(), client->timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return Finish(CommandStatus::Kafka(err, fmt::format("offsets for time {}: {}",
                                                          *opts.timestamp_ms, rd_kafka_err2str(err))));
    }
  }

  CommandStatus first_error;
  fmt::print("{:<10} {:<12} {}\n", "PARTITION", "EARLIEST",
             opts.timestamp_ms ? "LATEST       AT_TIMESTAMP" : "LATEST");
  for (int32_t p = 0; p < topic->partition_cnt; ++p) {
    int64_t low = 0, high = 0;
    rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
        client->get(), opts.topic.c_str(), p, &low, &high, client->timeout_ms());
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      fmt::print("{:<10} {}\n", p, rd_kafka_err2name(err));
      if (first_error.ok()) {
        first_error = CommandStatus::Kafka(
            err, fmt::format("partition {}: {}", p, rd_kafka_err2str(err)));
      }
      continue;
    }
    std::string at_time;
    if (opts.timestamp_ms) {
      const rd_kafka_topic_partition_t& tp =
          *rd_kafka_topic_partition_list_find(by_time.get(), opts.topic.c_str(), p);
      // -1: no message at or after the time; the next one will get `high`.
      at_time = tp.err != RD_KAFKA_RESP_ERR_NO_ERROR ? fmt::format(" {}", rd_kafka_err2name(tp.err))
                : tp.offset < 0                      ? fmt::format(" {} (none yet)", high)
                                                     : fmt::format(" {}", tp.offset);
    }
    fmt::print("{:<10} {:<12} {}\n", p, low,
               opts.timestamp_ms ? fmt::format("{:<12}{}", high, at_time) : fmt::to_string(high));
  }
  return Finish(first_error);
}

}  // namespace sluice::tools
