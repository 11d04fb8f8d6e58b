// The process's open-file limit, raised at start-up.
//
// Distributions start services with a soft RLIMIT_NOFILE of 1024 and a hard
// one far above; a broker's descriptors are its connections plus the file
// cache's segment files (storage/file_cache.h), whose default size derives
// from the soft limit, so the broker takes all it may have.
#pragma once

#include <cstdint>

namespace sluice::broker {

struct OpenFileLimit {
  uint64_t before = 0;  // soft limit found
  uint64_t after = 0;   // soft limit in force now
  uint64_t hard = 0;
};

// Raises the soft RLIMIT_NOFILE to the hard limit (to fs.nr_open when the
// hard limit is unlimited, which setrlimit refuses) and logs what it got; a
// failure is logged and leaves the limit as it was.
OpenFileLimit RaiseOpenFileLimit();

}  // namespace sluice::broker
