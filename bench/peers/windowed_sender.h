// WindowedSender: the send loop kafka_bench and nats_bench share. It keeps at
// most `window` messages sent but not acknowledged (or paces them at `rate`
// messages per second), shows the progress line, and gives up when nothing
// is acknowledged for 30 s so that a server that stops answering cannot hang
// a benchmark. What sending and waiting mean is the caller's (Kafka requests,
// NATS publishes).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "tools/perf_report.h"
#include "tools/perf_stats.h"

namespace sluice::bench {

struct WindowedSender {
  const char* tool;   // for the stall message, e.g. "kafka_bench"
  int64_t messages;   // to send in all
  int64_t window;     // most sent but not yet acknowledged
  double rate;        // messages per second; 0: as fast as the window allows
  int size;           // message size, for the progress line's MB/s
  bool quiet;         // no progress line

  // send(first, n): sends messages [first, first + n) and returns false if
  // the connection broke. wait(timeout_ms): waits up to that long for
  // acknowledgements, false if broken. `acked` and `failed` are the caller's
  // counters (its acknowledgement handling updates them during wait);
  // `interval` the histogram the progress line drains.
  template <typename Send, typename Wait>
  bool Run(Send&& send, Wait&& wait, const int64_t& acked, const int64_t& failed,
           tools::LatencyHistogram* interval) const {
    using tools::PerfClock;
    tools::Pacer pacer(rate);
    tools::ProgressLine progress(!quiet, "acked");
    int64_t sent = 0;
    auto last_progress = PerfClock::now();
    int64_t last_done = 0;
    for (;;) {
      const int64_t done = acked + failed;
      if (done >= messages) break;
      PerfClock::time_point now = PerfClock::now();
      int64_t room = std::min(messages - sent, window - (sent - done));
      if (room > 0 && rate > 0) room = std::min(room, pacer.Due(sent, now));
      if (room > 0) {
        if (!send(sent, room)) return false;
        sent += room;
      }
      // Wait for acks when the window is full or all is sent; for the next
      // due message when paced; not at all while there is room to send.
      int timeout_ms = 0;
      if (sent == messages || sent - done >= window) {
        timeout_ms = 100;
      } else if (rate > 0) {
        auto due = std::chrono::ceil<std::chrono::milliseconds>(pacer.NextDue(sent) - now);
        timeout_ms = static_cast<int>(std::clamp<int64_t>(due.count(), 0, 100));
      }
      if (!wait(timeout_ms)) return false;
      now = PerfClock::now();
      progress.Tick(now, static_cast<uint64_t>(acked),
                    static_cast<uint64_t>(acked) * static_cast<uint64_t>(size), interval);
      if (acked + failed != last_done) {
        last_done = acked + failed;
        last_progress = now;
      } else if (now - last_progress > std::chrono::seconds(30)) {
        progress.Finish();
        std::fprintf(stderr, "%s: no acknowledgement for 30 s (%lld of %lld done)\n", tool,
                     static_cast<long long>(last_done), static_cast<long long>(messages));
        return false;
      }
    }
    progress.Finish();
    return true;
  }
};

}  // namespace sluice::bench
