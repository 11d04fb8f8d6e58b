// DescribeLogDirs: this broker's log directories (log.dirs) and, in each, the
// partitions it holds there: the size of their segments and how far the log
// end trails the high watermark (Kafka's offset_lag: max(0, HW - LEO), 0 on
// a leader; a follower's LEO is at or past the HW it knows). Null topics ask
// for every partition held here; partitions asked for and not held here are
// left out, as Kafka leaves them out. v4 adds each directory's total and
// usable bytes (statvfs). Sluice has no future logs (AlterReplicaLogDirs),
// so is_future_key is always false.
#include <sys/statvfs.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <system_error>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using Result = protocol::DescribeLogDirsResponse::DescribeLogDirsResult;
using TopicEntry = protocol::DescribeLogDirsResponse::DescribeLogDirsTopic;

std::filesystem::path Normal(const std::filesystem::path& p) {
  std::error_code ec;
  std::filesystem::path abs = std::filesystem::absolute(p, ec);
  return (ec ? p : abs).lexically_normal();
}

// Partitions of `topic` to describe: those asked for, or all of them.
std::vector<int32_t> Wanted(const cluster::TopicInfo& topic, const std::vector<int32_t>* asked) {
  if (asked != nullptr) return *asked;
  std::vector<int32_t> all(static_cast<size_t>(topic.partition_count));
  for (int32_t p = 0; p < topic.partition_count; ++p) all[static_cast<size_t>(p)] = p;
  return all;
}

}  // namespace

void HandleDescribeLogDirs(RequestContext ctx, protocol::DescribeLogDirsRequest request) {
  cluster::PartitionManager& partitions = ctx.services->partitions;
  protocol::DescribeLogDirsResponse response;
  std::map<std::filesystem::path, Result*> by_dir;
  for (const std::string& configured : partitions.broker_config().log_dirs()) {
    const std::filesystem::path dir = Normal(configured);
    if (by_dir.contains(dir)) continue;
    auto& result = response.results.emplace_back();
    result.log_dir = dir.string();
    struct statvfs fs {};
    if (::statvfs(result.log_dir.c_str(), &fs) == 0) {
      result.total_bytes = static_cast<int64_t>(fs.f_blocks) * static_cast<int64_t>(fs.f_frsize);
      result.usable_bytes = static_cast<int64_t>(fs.f_bavail) * static_cast<int64_t>(fs.f_frsize);
    } else {
      result.error_code = protocol::ToWire(protocol::ErrorCode::KAFKA_STORAGE_ERROR);
    }
  }
  // Pointers into results, taken once it has stopped growing.
  for (auto& result : response.results) by_dir[std::filesystem::path(result.log_dir)] = &result;

  // The topics asked for (each name once, its partitions merged), or all.
  std::map<std::string, std::set<int32_t>> asked;
  if (request.topics.has_value()) {
    for (const auto& t : *request.topics) asked[t.topic].insert(t.partitions.begin(), t.partitions.end());
  }
  for (const cluster::TopicInfo& topic : partitions.ListTopics()) {
    std::vector<int32_t> asked_list;
    const std::vector<int32_t>* want_only = nullptr;
    if (request.topics.has_value()) {
      auto it = asked.find(topic.name);
      if (it == asked.end()) continue;
      asked_list.assign(it->second.begin(), it->second.end());
      want_only = &asked_list;
    }
    // One DescribeLogDirsTopic per topic and directory, made on first use.
    std::map<Result*, TopicEntry*> entries;
    for (int32_t index : Wanted(topic, want_only)) {
      auto partition = partitions.Get(topic.name, index);
      if (!partition) continue;  // Not held here.
      auto dir = by_dir.find(Normal(partition->data_dir()));
      if (dir == by_dir.end()) continue;  // Cannot happen: logs live in log.dirs.
      auto& entry = entries[dir->second];
      if (entry == nullptr) {
        entry = &dir->second->topics.emplace_back();
        entry->name = topic.name;
      }
      auto& p = entry->partitions.emplace_back();
      p.partition_index = index;
      p.partition_size = static_cast<int64_t>(partition->size_bytes());
      p.offset_lag = std::max<int64_t>(0, partition->high_watermark() - partition->log_end_offset());
      p.is_future_key = false;
    }
  }
  for (const auto& r : response.results) ctx.RecordError(r.error_code);
  ctx.Respond(response);
}

}  // namespace sluice::api
