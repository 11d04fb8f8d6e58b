#include "tools/kafka_client.h"

#include <chrono>
#include <cstdio>

#include <fmt/format.h>

namespace sluice::tools {

namespace {

bool IsTransportError(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR__TRANSPORT || err == RD_KAFKA_RESP_ERR__TIMED_OUT ||
         err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN || err == RD_KAFKA_RESP_ERR__RESOLVE;
}

}  // namespace

CommandStatus CommandStatus::Kafka(rd_kafka_resp_err_t err, std::string_view detail) {
  std::string msg = fmt::format("{}: {}", rd_kafka_err2name(err),
                                detail.empty() ? rd_kafka_err2str(err) : detail);
  CommandStatus s(IsTransportError(err) ? kExitUnreachable : kExitFailed, std::move(msg));
  s.kafka_error_ = err;
  return s;
}

CommandStatus CommandStatus::FromStatus(const Status& s) {
  return s.ok() ? CommandStatus() : Usage(s.message());
}

int Finish(const CommandStatus& s) {
  if (!s.ok()) {
    std::fflush(stdout);
    std::fprintf(stderr, "error: %s\n", s.message().c_str());
  }
  return s.exit_code();
}

CommandStatus KafkaClient::Connect(const GlobalOptions& global, Role role,
                                   const std::vector<KeyValue>& settings,
                                   std::unique_ptr<KafkaClient>* out, MetadataPtr* md,
                                   const char* topic) {
  CommandStatus s = Open(global, role, settings, out);
  if (!s.ok()) return s;
  return (*out)->FetchMetadata(md, topic);
}

CommandStatus KafkaClient::Open(const GlobalOptions& global, Role role,
                                const std::vector<KeyValue>& settings,
                                std::unique_ptr<KafkaClient>* out) {
  Result<std::vector<KeyValue>> user = ParseKeyValues(global.properties);
  if (!user.ok()) return CommandStatus::Usage("-X: " + user.status().message());

  std::unique_ptr<KafkaClient> client(new KafkaClient(global.bootstrap, global.timeout_ms));
  client->verbose_ = global.verbose;
  std::vector<KeyValue> all = {
      {"bootstrap.servers", global.bootstrap},
      {"client.id", "sluice-cli"},
      // Describing a topic must not create it on brokers that auto-create.
      {"allow.auto.create.topics", "false"},
  };
  all.insert(all.end(), settings.begin(), settings.end());
  for (const KeyValue& kv : *user) {
    if (kv.first == "debug") client->verbose_ = true;
    all.push_back(kv);
  }

  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  char errstr[512];
  for (const KeyValue& kv : all) {
    if (rd_kafka_conf_set(conf, kv.first.c_str(), kv.second.c_str(), errstr, sizeof errstr) !=
        RD_KAFKA_CONF_OK) {
      rd_kafka_conf_destroy(conf);
      return CommandStatus::Usage(fmt::format("property {}={}: {}", kv.first, kv.second, errstr));
    }
  }
  rd_kafka_conf_set_opaque(conf, client.get());
  rd_kafka_conf_set_error_cb(conf, &KafkaClient::OnError);
  if (role == Role::kProducer) rd_kafka_conf_set_dr_msg_cb(conf, &KafkaClient::OnDelivery);
  // Connection failures are reported once, by the command; librdkafka's own
  // log stream is only for -v or -X debug=...
  if (!client->verbose_) rd_kafka_conf_set_log_cb(conf, &KafkaClient::OnLog);

  rd_kafka_type_t type = role == Role::kProducer ? RD_KAFKA_PRODUCER : RD_KAFKA_CONSUMER;
  client->rk_ = rd_kafka_new(type, conf, errstr, sizeof errstr);  // Owns conf on success.
  if (client->rk_ == nullptr) {
    rd_kafka_conf_destroy(conf);
    return CommandStatus::Usage(fmt::format("cannot create client: {}", errstr));
  }
  *out = std::move(client);
  return {};
}

KafkaClient::~KafkaClient() {
  if (rk_ != nullptr) rd_kafka_destroy(rk_);
}

void KafkaClient::OnError(rd_kafka_t* /*rk*/, int err, const char* reason, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  MutexLock lock(&self->mu_);
  // "1/1 brokers are down" says less than the connection error before it.
  if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !self->last_error_.empty()) return;
  self->last_error_ =
      fmt::format("{}: {}", rd_kafka_err2name(static_cast<rd_kafka_resp_err_t>(err)), reason);
}

void KafkaClient::OnDelivery(rd_kafka_t* /*rk*/, const rd_kafka_message_t* m, void* opaque) {
  auto* self = static_cast<KafkaClient*>(opaque);
  if (self->on_delivery_) self->on_delivery_(*m);
}

void KafkaClient::OnLog(const rd_kafka_t* /*rk*/, int /*level*/, const char* /*fac*/,
                        const char* /*buf*/) {}

std::string KafkaClient::last_error() {
  MutexLock lock(&mu_);
  return last_error_;
}

CommandStatus KafkaClient::UnreachableError(rd_kafka_resp_err_t err) {
  rd_kafka_poll(rk_, 0);  // Serves error_cb, which knows the connection error.
  std::string cause = last_error();
  if (cause.empty()) cause = fmt::format("{}: {}", rd_kafka_err2name(err), rd_kafka_err2str(err));
  return CommandStatus::Unreachable(
      fmt::format("cannot reach broker {} within {} ms ({})", bootstrap_, timeout_ms_, cause));
}

CommandStatus KafkaClient::Subscribe(const std::string& topic) {
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), RD_KAFKA_PARTITION_UA);
  rd_kafka_resp_err_t err = rd_kafka_subscribe(rk_, list.get());
  return err == RD_KAFKA_RESP_ERR_NO_ERROR ? CommandStatus() : CommandStatus::Kafka(err);
}

bool KafkaClient::HasAssignment() {
  rd_kafka_topic_partition_list_t* list = nullptr;
  if (rd_kafka_assignment(rk_, &list) != RD_KAFKA_RESP_ERR_NO_ERROR) return false;
  PartitionListPtr owned(list);
  return list->cnt > 0;
}

bool IsPermanentConsumeError(rd_kafka_resp_err_t err) {
  return err == RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART || err == RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC ||
         err == RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION || err == RD_KAFKA_RESP_ERR__FATAL ||
         err == RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED ||
         err == RD_KAFKA_RESP_ERR_GROUP_AUTHORIZATION_FAILED;
}

CommandStatus KafkaClient::FindController(Controller* out) {
  MetadataPtr md;
  CommandStatus s = FetchMetadata(&md);
  if (!s.ok()) return s;
  const int32_t id = rd_kafka_controllerid(get(), 0);
  if (id < 0) {
    return CommandStatus::Failed("the cluster names no controller (a single node has none)");
  }
  if (const rd_kafka_metadata_broker_t* b = FindBroker(*md, id)) {
    *out = Controller{id, b->host, b->port};
    return {};
  }
  return CommandStatus::Failed(
      fmt::format("the controller, broker {}, is not in the metadata", id));
}

const rd_kafka_metadata_broker_t* KafkaClient::FindBroker(const rd_kafka_metadata_t& md,
                                                          int32_t id) {
  for (int i = 0; i < md.broker_cnt; ++i) {
    if (md.brokers[i].id == id) return &md.brokers[i];
  }
  return nullptr;
}

CommandStatus KafkaClient::FetchMetadata(MetadataPtr* out, const char* topic) {
  RdPtr<rd_kafka_topic_t, rd_kafka_topic_destroy> only;
  if (topic != nullptr) only.reset(rd_kafka_topic_new(rk_, topic, nullptr));
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_resp_err_t err =
      rd_kafka_metadata(rk_, /*all_topics=*/topic == nullptr, only.get(), &md, timeout_ms_);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (IsTransportError(err)) return UnreachableError(err);
    return CommandStatus::Kafka(err, "metadata request failed");
  }
  out->reset(md);
  return {};
}

CommandStatus KafkaClient::FindTopic(const rd_kafka_metadata_t& md, std::string_view topic,
                                     const rd_kafka_metadata_topic_t** out) {
  for (int i = 0; i < md.topic_cnt; ++i) {
    const rd_kafka_metadata_topic_t& t = md.topics[i];
    if (topic != t.topic) continue;
    if (t.err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      return CommandStatus::Kafka(t.err, fmt::format("topic '{}': {}", topic, rd_kafka_err2str(t.err)));
    }
    *out = &t;
    return {};
  }
  return CommandStatus::Kafka(RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART,
                              fmt::format("Topic '{}' does not exist.", topic));
}

CommandStatus KafkaClient::PrepareAdminOptions(rd_kafka_AdminOptions_t* options) {
  char errstr[512];
  if (rd_kafka_AdminOptions_set_request_timeout(options, timeout_ms_, errstr, sizeof errstr) ||
      rd_kafka_AdminOptions_set_operation_timeout(options, timeout_ms_, errstr, sizeof errstr)) {
    return CommandStatus::Usage(fmt::format("timeout {} ms: {}", timeout_ms_, errstr));
  }
  return {};
}

CommandStatus KafkaClient::AwaitAdminResult(rd_kafka_queue_t* queue, rd_kafka_event_type_t type,
                                            EventPtr* result) {
  // The request carries its own timeout; the margin only guards against a
  // result that never arrives.
  EventPtr ev(rd_kafka_queue_poll(queue, timeout_ms_ + 5000));
  if (!ev) return UnreachableError(RD_KAFKA_RESP_ERR__TIMED_OUT);
  if (rd_kafka_event_type(ev.get()) != type) {
    return CommandStatus::Failed(
        fmt::format("unexpected admin result: {}", rd_kafka_event_name(ev.get())));
  }
  rd_kafka_resp_err_t err = rd_kafka_event_error(ev.get());
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
    if (err == RD_KAFKA_RESP_ERR__TRANSPORT) return UnreachableError(err);
    std::string detail = rd_kafka_event_error_string(ev.get());
    // e.g. "_TIMED_OUT: Failed while waiting for controller: Local: Timed out"
    if (err == RD_KAFKA_RESP_ERR__TIMED_OUT) detail += fmt::format(" (after {} ms)", timeout_ms_);
    return CommandStatus::Kafka(err, detail);
  }
  *result = std::move(ev);
  return {};
}

}  // namespace sluice::tools
