#include "group/group_log.h"

#include <fmt/format.h>

#include "group/offsets_record.h"
#include "model/record_batch_builder.h"
#include "model/record_batch_view.h"

namespace sluice::group {

GroupLog::GroupLog(cluster::PartitionManager& partitions, const config::BrokerConfig& config)
    : partitions_(partitions), config_(config) {}

bool GroupLog::TopicExists() const {
  return exists_.load(std::memory_order_acquire) ||
         partitions_.FindTopic(kOffsetsTopic).has_value();
}

int32_t GroupLog::partition_count() const {
  if (cluster_partition_count_) return cluster_partition_count_();
  if (auto info = partitions_.FindTopic(kOffsetsTopic)) return info->partition_count;
  return config_.GetInt("offsets.topic.num.partitions");
}

Status GroupLog::EnsureTopic() {
  if (exists_.load(std::memory_order_acquire) || in_cluster()) return Status::Ok();
  MutexLock lock(&create_mu_);
  if (!partitions_.FindTopic(kOffsetsTopic)) {
    const std::map<std::string, std::string> configs = {
        {"cleanup.policy", "compact"},
        {"segment.bytes", std::to_string(config_.GetInt("offsets.topic.segment.bytes"))},
        {"compression.type", "producer"},
    };
    auto created = partitions_.CreateTopic(std::string(kOffsetsTopic),
                                           config_.GetInt("offsets.topic.num.partitions"),
                                           /*replication_factor=*/1, configs,
                                           /*validate_only=*/false);
    if (!created.ok() && !created.status().IsAlreadyExists()) return created.status();
  }
  exists_.store(true, std::memory_order_release);
  return Status::Ok();
}

Result<GroupLogWrite> GroupLog::Append(std::string_view group, const std::vector<KeyValue>& records,
                                       int64_t now_ms) {
  Status s = EnsureTopic();
  if (!s.ok()) return s;
  const int32_t index = OffsetsPartitionFor(group, partition_count());
  auto partition = partitions_.Get(kOffsetsTopic, index);
  if (!partition) {
    const std::string what = fmt::format("{}-{} is not hosted here", kOffsetsTopic, index);
    return in_cluster() ? Status::NotLeader(what) : Status::NotFound(what);
  }
  model::RecordBatchBuilder builder;
  for (const KeyValue& kv : records) {
    std::optional<model::Bytes> value;
    if (kv.value) value = model::Bytes(*kv.value);
    builder.Add(now_ms, model::Bytes(kv.key), value);
  }
  auto batch = builder.Build();
  if (!batch.ok()) return batch.status();
  auto appended = partition->Append(*batch, /*log_append_time_ms=*/-1);
  if (!appended.ok()) return appended.status();
  partitions_.flusher().MarkDirty(partition);
  return GroupLogWrite{partition, appended->base_offset, appended->last_offset + 1};
}

void GroupLog::WhenDurable(const GroupLogWrite& write, std::function<void(Status)> done) {
  if (write.partition->has_followers()) {
    // acks=all over the ISR, as a produce: committed once every in-sync
    // replica has it, NotLeader if this broker stops leading first.
    write.partition->WhenCommitted(
        write.end_offset, [done = std::move(done)](Status s, size_t /*isr_size*/) { done(s); });
    return;
  }
  partitions_.flusher().WhenDurable(write.partition, write.end_offset, std::move(done));
}

Status GroupLog::Replay(const Visitor& visit) {
  auto info = partitions_.FindTopic(kOffsetsTopic);
  if (!info) return Status::Ok();
  exists_.store(true, std::memory_order_release);
  for (int32_t i = 0; i < info->partition_count; ++i) {
    auto partition = partitions_.Get(kOffsetsTopic, i);
    if (!partition) continue;
    Status s = ReplayPartition(*partition, visit);
    if (!s.ok()) return Status::Corruption(fmt::format("{}-{}: {}", kOffsetsTopic, i, s.message()));
  }
  return Status::Ok();
}

Status GroupLog::ReplayPartition(int32_t index, const Visitor& visit) {
  auto partition = partitions_.Get(kOffsetsTopic, index);
  if (!partition) {
    return Status::NotFound(fmt::format("{}-{} is not hosted here", kOffsetsTopic, index));
  }
  Status s = ReplayPartition(*partition, visit);
  if (!s.ok()) return Status::Corruption(fmt::format("{}-{}: {}", kOffsetsTopic, index, s.message()));
  return Status::Ok();
}

Status GroupLog::ReplayPartition(cluster::Partition& partition, const Visitor& visit) {
  int64_t offset = partition.log_start_offset();
  const int64_t end = partition.log_end_offset();
  std::vector<uint8_t> buffer;
  while (offset < end) {
    auto read = partition.Read(offset, 1 << 20, storage::Log::kNoLimit);
    if (!read.ok()) return read.status();
    if (read->slices.empty()) break;
    for (const FileSlice& slice : read->slices) {
      buffer.resize(slice.length);
      Status read_status = ReadFileSlice(slice, buffer);
      if (!read_status.ok()) {
        return Status::IOError(partition.tp().DirName() + ": " + read_status.message());
      }
      std::span<const uint8_t> rest(buffer);
      while (!rest.empty()) {
        auto view = model::RecordBatchView::Parse(rest);
        if (!view.ok()) return view.status();
        const size_t size = view->header().size_bytes();
        if (!view->header().is_control()) {
          model::RecordIterator it = view->Records();
          model::Record record;
          while (it.Next(&record)) {
            if (record.offset < offset || !record.key) continue;
            Status s = visit(record.offset, *record.key, record.value);
            if (!s.ok()) return s;
          }
          if (!it.status().ok()) return it.status();
        }
        rest = rest.subspan(size);
      }
    }
    if (read->next_offset <= offset) break;
    offset = read->next_offset;
  }
  return Status::Ok();
}

}  // namespace sluice::group
