#include "api/handlers/await_leaders.h"

namespace sluice::api {

std::set<std::string> TopicsWithoutLeaders(const cluster::MetadataSnapshot& snapshot,
                                           const std::map<std::string, int32_t>& partition_counts) {
  std::set<std::string> missing;
  for (const auto& [topic, count] : partition_counts) {
    auto t = snapshot.topics.find(topic);
    bool ready = t != snapshot.topics.end();
    for (int32_t p = 0; ready && p < count; ++p) {
      auto it = t->second.partitions.find(p);
      ready = it != t->second.partitions.end() && it->second.leader >= 0;
    }
    if (!ready) missing.insert(topic);
  }
  return missing;
}

}  // namespace sluice::api
