#include "support/kafka_client.h"

#include <librdkafka/rdkafka.h>

#include <cstdio>
#include <cstdlib>
#include <set>

namespace sluice::testing {
namespace {

// Runs one admin operation on a temporary producer handle and returns the
// error code of its single topic result.
template <typename Launch, typename Extract>
int RunAdmin(const std::string& bootstrap, rd_kafka_event_type_t type, Launch launch,
             Extract extract) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrDie(conf.get(), "bootstrap.servers", bootstrap);
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
  if (!p) return -1000;
  rd_kafka_t* rk = p->c_ptr();
  rd_kafka_queue_t* q = rd_kafka_queue_new(rk);
  rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk, RD_KAFKA_ADMIN_OP_ANY);
  rd_kafka_AdminOptions_set_request_timeout(opts, 20000, nullptr, 0);
  launch(rk, opts, q);
  int code = -1001;
  rd_kafka_event_t* ev = rd_kafka_queue_poll(q, 30000);
  if (ev != nullptr) {
    if (rd_kafka_event_type(ev) == type) {
      if (rd_kafka_event_error(ev)) {
        code = rd_kafka_event_error(ev);
      } else {
        code = extract(ev);
      }
    }
    rd_kafka_event_destroy(ev);
  }
  rd_kafka_AdminOptions_destroy(opts);
  rd_kafka_queue_destroy(q);
  return code;
}

class OpaqueDeliveryReporter : public RdKafka::DeliveryReportCb {
 public:
  void dr_cb(RdKafka::Message& m) override {
    auto* r = static_cast<DeliveryResult*>(m.msg_opaque());
    if (r == nullptr) return;
    r->err = m.err();
    r->offset = m.offset();
    r->partition = m.partition();
    r->done = true;
  }
};

OpaqueDeliveryReporter g_reporter;

}  // namespace

void SetOrDie(RdKafka::Conf* conf, const std::string& key, const std::string& value) {
  std::string err;
  if (conf->set(key, value, err) != RdKafka::Conf::CONF_OK) {
    std::fprintf(stderr, "librdkafka config %s=%s: %s\n", key.c_str(), value.c_str(), err.c_str());
    std::abort();
  }
}

namespace {

// Runs CreateTopics for `nt` (owned by the caller).
int RunCreateTopic(const std::string& bootstrap, rd_kafka_NewTopic_t* nt) {
  return RunAdmin(
      bootstrap, RD_KAFKA_EVENT_CREATETOPICS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        rd_kafka_CreateTopics(rk, &nt, 1, opts, q);
      },
      [](rd_kafka_event_t* ev) {
        size_t n = 0;
        const rd_kafka_topic_result_t** res =
            rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n);
        return n == 1 ? static_cast<int>(rd_kafka_topic_result_error(res[0])) : -1003;
      });
}

}  // namespace

int KafkaClient::CreateTopic(const std::string& topic, int partitions, int replication_factor,
                             const std::map<std::string, std::string>& configs) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt =
      rd_kafka_NewTopic_new(topic.c_str(), partitions, replication_factor, errstr, sizeof(errstr));
  if (nt == nullptr) return -1002;
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  int code = RunCreateTopic(bootstrap_, nt);
  rd_kafka_NewTopic_destroy(nt);
  return code;
}

int KafkaClient::CreateTopic(const std::string& topic,
                             const std::vector<std::vector<int32_t>>& assignment,
                             const std::map<std::string, std::string>& configs) {
  char errstr[512];
  rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(topic.c_str(), static_cast<int>(assignment.size()),
                                                  -1, errstr, sizeof(errstr));
  if (nt == nullptr) return -1002;
  for (size_t p = 0; p < assignment.size(); ++p) {
    std::vector<int32_t> replicas = assignment[p];  // the C API takes a non-const pointer
    if (rd_kafka_NewTopic_set_replica_assignment(nt, static_cast<int32_t>(p), replicas.data(),
                                                 replicas.size(), errstr,
                                                 sizeof(errstr)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
      rd_kafka_NewTopic_destroy(nt);
      return -1002;
    }
  }
  for (const auto& [k, v] : configs) rd_kafka_NewTopic_set_config(nt, k.c_str(), v.c_str());
  int code = RunCreateTopic(bootstrap_, nt);
  rd_kafka_NewTopic_destroy(nt);
  return code;
}

int KafkaClient::DeleteTopic(const std::string& topic) {
  rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
  int code = RunAdmin(
      bootstrap_, RD_KAFKA_EVENT_DELETETOPICS_RESULT,
      [&](rd_kafka_t* rk, rd_kafka_AdminOptions_t* opts, rd_kafka_queue_t* q) {
        rd_kafka_DeleteTopics(rk, &dt, 1, opts, q);
      },
      [](rd_kafka_event_t* ev) {
        size_t n = 0;
        const rd_kafka_topic_result_t** res =
            rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
        return n == 1 ? static_cast<int>(rd_kafka_topic_result_error(res[0])) : -1003;
      });
  rd_kafka_DeleteTopic_destroy(dt);
  return code;
}

std::unique_ptr<RdKafka::Producer> KafkaClient::MakeProducer(
    const std::map<std::string, std::string>& conf_overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrDie(conf.get(), "bootstrap.servers", bootstrap_);
  SetOrDie(conf.get(), "linger.ms", "5");
  SetOrDie(conf.get(), "message.timeout.ms", "30000");
  std::string cb_err;
  conf->set("dr_cb", &g_reporter, cb_err);
  for (const auto& [k, v] : conf_overrides) SetOrDie(conf.get(), k, v);
  std::string err;
  std::unique_ptr<RdKafka::Producer> p(RdKafka::Producer::create(conf.get(), err));
  if (!p) {
    std::fprintf(stderr, "producer: %s\n", err.c_str());
    std::abort();
  }
  return p;
}

std::vector<ConsumedMessage> KafkaClient::ConsumeAll(
    const std::string& topic, int partitions, size_t expected, std::chrono::milliseconds timeout,
    const std::map<std::string, std::string>& conf_overrides) {
  std::vector<int> all;
  for (int p = 0; p < partitions; ++p) all.push_back(p);
  return Consume(topic, all, /*start_offset=*/0, expected, /*stop_at_end=*/false, timeout,
                 conf_overrides);
}

std::vector<ConsumedMessage> KafkaClient::ConsumePartition(const std::string& topic,
                                                           int partition, size_t expected,
                                                           std::chrono::milliseconds timeout) {
  return Consume(topic, {partition}, /*start_offset=*/0, expected, /*stop_at_end=*/false, timeout,
                 {});
}

std::vector<ConsumedMessage> KafkaClient::ConsumePartitionToEnd(const std::string& topic,
                                                                int partition,
                                                                std::chrono::milliseconds timeout) {
  return Consume(topic, {partition}, RdKafka::Topic::OFFSET_BEGINNING, SIZE_MAX,
                 /*stop_at_end=*/true, timeout, {});
}

std::vector<ConsumedMessage> KafkaClient::Consume(
    const std::string& topic, const std::vector<int>& partitions, int64_t start_offset,
    size_t expected, bool stop_at_end, std::chrono::milliseconds timeout,
    const std::map<std::string, std::string>& conf_overrides) {
  std::unique_ptr<RdKafka::Conf> conf(RdKafka::Conf::create(RdKafka::Conf::CONF_GLOBAL));
  SetOrDie(conf.get(), "bootstrap.servers", bootstrap_);
  SetOrDie(conf.get(), "group.id", "sluice-test-assign");
  SetOrDie(conf.get(), "enable.auto.commit", "false");
  SetOrDie(conf.get(), "enable.partition.eof", stop_at_end ? "true" : "false");
  for (const auto& [k, v] : conf_overrides) SetOrDie(conf.get(), k, v);
  std::string err;
  std::unique_ptr<RdKafka::KafkaConsumer> c(RdKafka::KafkaConsumer::create(conf.get(), err));
  if (!c) {
    std::fprintf(stderr, "consumer: %s\n", err.c_str());
    std::abort();
  }
  std::vector<RdKafka::TopicPartition*> tps;
  for (int p : partitions) tps.push_back(RdKafka::TopicPartition::create(topic, p, start_offset));
  c->assign(tps);
  RdKafka::TopicPartition::destroy(tps);

  std::vector<ConsumedMessage> out;
  std::set<int32_t> ended;  // partitions whose end was reached
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (out.size() < expected && std::chrono::steady_clock::now() < deadline) {
    std::unique_ptr<RdKafka::Message> m(c->consume(200));
    if (m && m->err() == RdKafka::ERR__PARTITION_EOF) {
      ended.insert(m->partition());
      if (ended.size() == partitions.size()) break;
    }
    if (!m || m->err() != RdKafka::ERR_NO_ERROR) continue;
    ConsumedMessage cm;
    cm.partition = m->partition();
    cm.offset = m->offset();
    if (m->key_pointer() != nullptr) {
      cm.key = std::string(static_cast<const char*>(m->key_pointer()), m->key_len());
    }
    if (m->payload() != nullptr) {
      cm.value = std::string(static_cast<const char*>(m->payload()), m->len());
    }
    if (RdKafka::Headers* h = m->headers()) {
      for (const auto& header : h->get_all()) {
        std::optional<std::string> v;
        if (header.value() != nullptr) {
          v = std::string(static_cast<const char*>(header.value()), header.value_size());
        }
        cm.headers.emplace_back(header.key(), v);
      }
    }
    cm.timestamp = m->timestamp().timestamp;
    out.push_back(std::move(cm));
  }
  c->close();
  return out;
}

DeliveryResult ProduceSync(RdKafka::Producer& producer, const std::string& topic,
                           int32_t partition, const std::optional<std::string>& key,
                           const std::optional<std::string>& value, RdKafka::Headers* headers) {
  DeliveryResult result;
  RdKafka::ErrorCode err = producer.produce(
      topic, partition, RdKafka::Producer::RK_MSG_COPY,
      value ? const_cast<char*>(value->data()) : nullptr, value ? value->size() : 0,
      key ? key->data() : nullptr, key ? key->size() : 0, 0, headers, &result);
  if (err != RdKafka::ERR_NO_ERROR) {
    // On failure librdkafka did not take the headers.
    delete headers;
    result.err = err;
    return result;
  }
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!result.done && std::chrono::steady_clock::now() < deadline) producer.poll(50);
  return result;
}

}  // namespace sluice::testing
