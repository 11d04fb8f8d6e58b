#include "support/queue_workload.h"

#include <librdkafka/rdkafkacpp.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "support/kafka_client.h"
#include "support/wait_until.h"

namespace sluice::testing {
namespace {

constexpr int kValueDigits = 12;

}  // namespace

std::string EncodeQueueValue(int64_t value, size_t size) {
  std::string out = fmt::format("{:0{}d}", value, kValueDigits);
  if (out.size() < size) out.resize(size, '.');
  return out;
}

int64_t DecodeQueueValue(const void* data, size_t size) {
  if (data == nullptr || size < kValueDigits) return -1;
  const char* p = static_cast<const char*>(data);
  int64_t v = 0;
  for (size_t i = 0; i < kValueDigits; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    v = v * 10 + (p[i] - '0');
  }
  for (size_t i = kValueDigits; i < size; ++i) {
    if (p[i] != '.') return -1;
  }
  return v;
}

// Delivery reports and client events, both served by poll() on the producer
// thread.
class QueueWorkload::Reporter : public RdKafka::DeliveryReportCb, public RdKafka::EventCb {
 public:
  explicit Reporter(QueueWorkload* w) : w_(w) {}

  void dr_cb(RdKafka::Message& m) override {
    const int64_t value = DecodeQueueValue(m.payload(), m.len());
    std::lock_guard lock(w_->mu_);
    if (m.err() == RdKafka::ERR_NO_ERROR) {
      w_->history_.acked.push_back(AckedWrite{m.partition(), m.offset(), value});
      w_->acked_values_.insert(value);
      ++w_->acked_count_;
    } else {
      w_->history_.failed[value] = RdKafka::err2str(m.err());
      ++w_->failed_count_;
    }
    --w_->outstanding_;
  }

  void event_cb(RdKafka::Event& e) override {
    if (e.type() != RdKafka::Event::EVENT_ERROR || !e.fatal()) return;
    std::lock_guard lock(w_->mu_);
    w_->history_.fatal_error = RdKafka::err2str(e.err()) + ": " + e.str();
  }

 private:
  QueueWorkload* w_;
};

QueueWorkload::QueueWorkload(std::string bootstrap, QueueWorkloadOptions options)
    : bootstrap_(std::move(bootstrap)), options_(std::move(options)) {
  history_.partitions = options_.partitions;
}

QueueWorkload::~QueueWorkload() {
  StopProducing(std::chrono::seconds(5));
  StopConsuming();
}

void QueueWorkload::Start() {
  producer_ = std::thread([this] { ProduceLoop(); });
  consumer_ = std::thread([this] { ConsumeLoop(); });
}

void QueueWorkload::ProduceLoop() {
  Reporter reporter(this);
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrDie(conf.get(), "bootstrap.servers", bootstrap_);
  SetOrDie(conf.get(), "acks", "all");
  SetOrDie(conf.get(), "enable.idempotence", "true");
  SetOrDie(conf.get(), "linger.ms", "5");
  // Long enough to ride out a failover (session timeout + election), so
  // that most writes made during a fault are acknowledged in the end.
  SetOrDie(conf.get(), "message.timeout.ms", "30000");
  // A request sent to a broker that vanished (kill -9, a cut link) is given
  // up after this, and retried where the refreshed metadata says.
  SetOrDie(conf.get(), "request.timeout.ms", "5000");
  SetOrDie(conf.get(), "retry.backoff.ms", "100");
  SetOrDie(conf.get(), "topic.metadata.refresh.interval.ms", "2000");
  std::string err;
  conf->set("dr_cb", static_cast<RdKafka::DeliveryReportCb*>(&reporter), err);
  conf->set("event_cb", static_cast<RdKafka::EventCb*>(&reporter), err);
  for (const auto& [k, v] : options_.producer_conf) SetOrDie(conf.get(), k, v);
  auto make_producer = [&] {
    std::unique_ptr<RdKafka::Producer> made(RdKafka::Producer::create(conf.get(), err));
    if (!made) {
      std::fprintf(stderr, "producer: %s\n", err.c_str());
      std::abort();
    }
    return made;
  };
  // Answers everything `p` still holds (purged: failed, maybe written).
  auto drain = [&](RdKafka::Producer& p, std::chrono::milliseconds flush) {
    p.flush(static_cast<int>(flush.count()));
    const int64_t unanswered = outstanding_.load();
    p.purge(RdKafka::Producer::PURGE_QUEUE | RdKafka::Producer::PURGE_INFLIGHT);
    WaitUntil([&] {
      p.poll(10);
      return outstanding_.load() == 0;
    }, std::chrono::seconds(10));
    return unanswered;
  };
  std::unique_ptr<RdKafka::Producer> producer = make_producer();

  const auto period = std::chrono::microseconds(1'000'000 / std::max(1, options_.messages_per_second));
  auto next = std::chrono::steady_clock::now();
  int64_t value = 0;
  while (!stop_producing_.load()) {
    bool replace = false;
    {
      std::lock_guard lock(mu_);
      replace = !history_.fatal_error.empty();  // every later write would fail
    }
    if (replace) {
      drain(*producer, std::chrono::milliseconds(0));
      producer.reset();
      {
        std::lock_guard lock(mu_);
        history_.fatal_errors.push_back(std::move(history_.fatal_error));
        history_.fatal_error.clear();
      }
      producer = make_producer();
    }
    const std::string text = EncodeQueueValue(value, options_.value_bytes);
    const int32_t partition = static_cast<int32_t>(value % options_.partitions);
    ++outstanding_;
    RdKafka::ErrorCode e;
    while ((e = producer->produce(options_.topic, partition, RdKafka::Producer::RK_MSG_COPY,
                                  const_cast<char*>(text.data()), text.size(), nullptr, 0, 0,
                                  nullptr)) == RdKafka::ERR__QUEUE_FULL) {
      producer->poll(10);
    }
    if (e != RdKafka::ERR_NO_ERROR) {  // Refused before it left: never in the log.
      std::lock_guard lock(mu_);
      history_.failed[value] = RdKafka::err2str(e);
      ++failed_count_;
      --outstanding_;
    }
    ++value;
    {
      std::lock_guard lock(mu_);
      history_.sent = value;
    }
    next += period;
    // Serve delivery reports while waiting for the next send time.
    for (auto now = std::chrono::steady_clock::now(); now < next && !stop_producing_.load();
         now = std::chrono::steady_clock::now()) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(next - now);
      producer->poll(static_cast<int>(std::max<int64_t>(left.count(), 1)));
    }
  }
  // What is still unanswered gets a purge report (a failure: it may or may
  // not have been written), so that every sent value has an outcome.
  unanswered_at_flush_ = drain(*producer, flush_timeout_);
}

bool QueueWorkload::StopProducing(std::chrono::milliseconds timeout) {
  if (producer_.joinable()) {
    flush_timeout_ = timeout;
    stop_producing_ = true;
    producer_.join();
  }
  return unanswered_at_flush_.load() == 0;
}

void QueueWorkload::ConsumeLoop() {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrDie(conf.get(), "bootstrap.servers", bootstrap_);
  SetOrDie(conf.get(), "group.id", options_.group);
  SetOrDie(conf.get(), "auto.offset.reset", "earliest");
  SetOrDie(conf.get(), "enable.auto.commit", "true");
  SetOrDie(conf.get(), "auto.commit.interval.ms", "500");
  SetOrDie(conf.get(), "session.timeout.ms", "6000");
  SetOrDie(conf.get(), "heartbeat.interval.ms", "1000");
  SetOrDie(conf.get(), "topic.metadata.refresh.interval.ms", "2000");
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) {
    std::fprintf(stderr, "consumer: %s\n", err.c_str());
    std::abort();
  }
  c->subscribe({options_.topic});
  while (!stop_consuming_.load()) {
    std::unique_ptr<RdKafka::Message> m(c->consume(100));
    if (!m || m->err() != RdKafka::ERR_NO_ERROR) continue;
    const int64_t value = DecodeQueueValue(m->payload(), m->len());
    std::lock_guard lock(mu_);
    history_.consumed.push_back(ConsumedRecord{m->partition(), m->offset(), value});
    consumed_values_.insert(value);
    ++consumed_count_;
  }
  // The history is complete. librdkafka's close and destroy may never
  // return (a broker thread that does not terminate after brokers restarted
  // under it, seen with 2.0.2), so StopConsuming waits for them only so
  // long and may leave this thread behind: from here on it touches nothing
  // of the workload's but the shared flag.
  std::shared_ptr<std::atomic<bool>> closed = consumer_closed_;
  consume_loop_done_ = true;
  c->close();
  c.reset();
  *closed = true;
}

bool QueueWorkload::WaitConsumed(std::chrono::milliseconds timeout) {
  return WaitUntil(
      [&] {
        std::lock_guard lock(mu_);
        return std::includes(consumed_values_.begin(), consumed_values_.end(),
                             acked_values_.begin(), acked_values_.end());
      },
      timeout);
}

void QueueWorkload::StopConsuming() {
  stop_consuming_ = true;
  if (!consumer_.joinable()) return;
  WaitUntil([&] { return consume_loop_done_.load(); }, std::chrono::seconds(30));
  if (consume_loop_done_.load() &&
      !WaitUntil([&] { return consumer_closed_->load(); }, std::chrono::seconds(30))) {
    std::printf("note: the group consumer's librdkafka close did not return in 30 s; its thread "
                "is left behind\n");
    consumer_.detach();
    return;
  }
  consumer_.join();
}

QueueHistory QueueWorkload::history() const {
  std::lock_guard lock(mu_);
  return history_;
}

}  // namespace sluice::testing
