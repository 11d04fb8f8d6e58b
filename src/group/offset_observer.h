// OffsetObserver: told about every committed offset the coordinator holds,
// for consumers of that state outside the coordinator (the lag metrics).
// Calls come from request, flusher and timer threads, never under the
// coordinator's lock; an observer must be thread-safe.
#pragma once

#include <cstdint>
#include <string>

namespace sluice::group {

class OffsetObserver {
 public:
  virtual ~OffsetObserver() = default;
  virtual void OnOffsetCommitted(const std::string& group, const std::string& topic,
                                 int32_t partition, int64_t offset) = 0;
  virtual void OnOffsetRemoved(const std::string& group, const std::string& topic,
                               int32_t partition) = 0;
};

}  // namespace sluice::group
