#include "support/queue_checker.h"

#include <librdkafka/rdkafkacpp.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <set>
#include <thread>
#include <utility>

#include <fmt/format.h>

#include "support/kafka_client.h"

namespace sluice::testing {
namespace {

// At most this many examples of one kind of violation are described.
constexpr int kExamplesPerKind = 5;

// Counts a violation and describes the first few of its kind.
class Tally {
 public:
  explicit Tally(std::vector<std::string>* problems) : problems_(problems) {}
  void Add(int64_t* counter, const std::string& kind, const std::string& what) {
    ++*counter;
    if (++described_[kind] <= kExamplesPerKind) problems_->push_back(kind + ": " + what);
  }

 private:
  std::vector<std::string>* problems_;
  std::map<std::string, int> described_;
};

}  // namespace

FinalLog ReadFinalLog(const std::string& bootstrap, const std::string& topic, int partitions,
                      std::chrono::milliseconds timeout) {
  FinalLog out;
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrDie(conf.get(), "bootstrap.servers", bootstrap);
  SetOrDie(conf.get(), "group.id", "fault-test-checker");
  SetOrDie(conf.get(), "enable.auto.commit", "false");
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) {
    std::fprintf(stderr, "consumer: %s\n", err.c_str());
    std::abort();
  }
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (int32_t p = 0; p < partitions; ++p) {
    int64_t low = -1;
    int64_t high = -1;
    RdKafka::ErrorCode e = RdKafka::ERR__TIMED_OUT;
    // The leader may still be settling after the last fault: ask again.
    while (std::chrono::steady_clock::now() < deadline &&
           (e = c->query_watermark_offsets(topic, p, &low, &high, 5000)) != RdKafka::ERR_NO_ERROR) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (e != RdKafka::ERR_NO_ERROR) {
      out.problems.push_back(fmt::format("partition {}: no watermarks: {}", p, RdKafka::err2str(e)));
      continue;
    }
    out.high_watermark[p] = high;
    std::vector<ConsumedRecord>& records = out.records[p];
    if (high == 0) continue;
    std::vector<RdKafka::TopicPartition*> tps = {
        RdKafka::TopicPartition::create(topic, p, RdKafka::Topic::OFFSET_BEGINNING)};
    c->assign(tps);
    RdKafka::TopicPartition::destroy(tps);
    int64_t next = -1;
    while (next < high && std::chrono::steady_clock::now() < deadline) {
      std::unique_ptr<RdKafka::Message> m(c->consume(200));
      if (!m || m->err() != RdKafka::ERR_NO_ERROR) continue;
      records.push_back(ConsumedRecord{m->partition(), m->offset(),
                                       DecodeQueueValue(m->payload(), m->len())});
      next = m->offset() + 1;
    }
    c->unassign();
    if (next < high) {
      out.problems.push_back(fmt::format("partition {}: read up to offset {} of high watermark {}",
                                         p, next, high));
    }
  }
  c->close();
  return out;
}

QueueCheck CheckQueue(const QueueHistory& history, const FinalLog& log) {
  QueueCheck check;
  Tally tally(&check.problems);
  check.sent = history.sent;
  check.acked = static_cast<int64_t>(history.acked.size());
  check.failed = static_cast<int64_t>(history.failed.size());
  for (const auto& [value, why] : history.failed) ++check.failure_reasons[why];
  check.group_consumed = static_cast<int64_t>(history.consumed.size());
  for (const std::string& p : log.problems) check.problems.push_back("incomplete: " + p);
  // A producer's fatal error is the client giving up, not a broken promise:
  // counted and reported; what the broker kept is judged below like any.
  check.producer_fatal_errors = history.fatal_errors;
  if (!history.fatal_error.empty()) check.producer_fatal_errors.push_back(history.fatal_error);

  // Where each value is in the final log, and the log by (partition, offset).
  std::map<int64_t, std::vector<std::pair<int32_t, int64_t>>> where;
  std::map<std::pair<int32_t, int64_t>, int64_t> at;
  for (const auto& [p, records] : log.records) {
    int64_t previous = -1;
    for (const ConsumedRecord& r : records) {
      ++check.read;
      at[{p, r.offset}] = r.value;
      if (r.value < 0 || r.value >= history.sent || r.value % history.partitions != p) {
        tally.Add(&check.foreign, "foreign",
                  fmt::format("partition {} offset {} holds value {}", p, r.offset, r.value));
        continue;
      }
      where[r.value].emplace_back(p, r.offset);
      if (r.value <= previous) {
        tally.Add(&check.unordered, "unordered",
                  fmt::format("partition {} offset {}: value {} after {}", p, r.offset, r.value,
                              previous));
      }
      previous = std::max(previous, r.value);
      if (history.failed.contains(r.value)) ++check.read_unacked;
    }
  }
  for (const auto& [value, places] : where) {
    if (places.size() > 1) {
      tally.Add(&check.duplicated, "duplicated",
                fmt::format("value {} is in the log {} times (first at partition {} offset {}, "
                            "again at offset {}){}",
                            value, places.size(), places[0].first, places[0].second,
                            places[1].second,
                            history.failed.contains(value) ? "; its write was reported failed"
                                                           : ""));
    }
  }
  for (const AckedWrite& a : history.acked) {
    if (a.offset < 0) {
      // Acknowledged without an offset: librdkafka reports a write whose
      // request timed out as delivered once a later write of the same
      // producer and partition is (the sequence check proves it is in the
      // log). It must be in its partition, wherever.
      ++check.acked_without_offset;
      auto elsewhere = where.find(a.value);
      if (elsewhere == where.end()) {
        tally.Add(&check.lost, "lost",
                  fmt::format("value {} acknowledged (offset unknown) at partition {} is not in "
                              "the log",
                              a.value, a.partition));
      } else if (elsewhere->second[0].first != a.partition) {
        tally.Add(&check.misplaced, "misplaced",
                  fmt::format("value {} acknowledged at partition {} is in partition {}", a.value,
                              a.partition, elsewhere->second[0].first));
      }
      continue;
    }
    auto found = at.find({a.partition, a.offset});
    if (found != at.end() && found->second == a.value) continue;
    auto elsewhere = where.find(a.value);
    if (elsewhere != where.end()) {
      tally.Add(&check.misplaced, "misplaced",
                fmt::format("value {} acknowledged at partition {} offset {} is at offset {}",
                            a.value, a.partition, a.offset, elsewhere->second[0].second));
    } else {
      tally.Add(&check.lost, "lost",
                fmt::format("value {} acknowledged at partition {} offset {} is not in the log "
                            "(that offset holds {})",
                            a.value, a.partition, a.offset,
                            found == at.end() ? std::string("nothing")
                                              : std::to_string(found->second)));
    }
  }
  for (const ConsumedRecord& r : history.consumed) {
    auto found = at.find({r.partition, r.offset});
    if (found != at.end() && found->second == r.value) continue;
    tally.Add(&check.dirty, "dirty",
              fmt::format("the group consumer read value {} at partition {} offset {}, which the "
                          "final log does not hold there",
                          r.value, r.partition, r.offset));
  }
  return check;
}

std::string QueueCheck::Summary(const std::string& faults) const {
  std::string reasons;
  for (const auto& [why, n] : failure_reasons) {
    reasons += fmt::format("{}{} x{}", reasons.empty() ? " (" : ", ", why, n);
  }
  if (!reasons.empty()) reasons += ")";
  std::string fatal;
  for (const std::string& e : producer_fatal_errors) fatal += fmt::format("{}{}", fatal.empty() ? "" : "; ", e);
  return fmt::format(
      "faults injected: {}; sent {}, acknowledged {} ({} without an offset), failed {}{}, read {} "
      "({} of them unacknowledged), group consumer received {}; lost {}, duplicated {}, misplaced "
      "{}, out of order {}, foreign {}, dirty reads {}; producers replaced after a fatal error {}{}",
      faults, sent, acked, acked_without_offset, failed, reasons, read, read_unacked,
      group_consumed, lost, duplicated, misplaced, unordered, foreign, dirty,
      producer_fatal_errors.size(), fatal.empty() ? "" : " (" + fatal + ")");
}

std::string QueueCheck::Problems() const {
  std::string out;
  for (const std::string& p : problems) out += p + "\n";
  return out;
}

}  // namespace sluice::testing
