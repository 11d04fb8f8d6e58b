// RAII ownership of librdkafka handles, and the mapping of failures to the
// tool's exit codes: 0 ok, 1 the operation failed, 2 usage, 3 no broker.
#pragma once

#include <librdkafka/rdkafka.h>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "tools/options.h"
#include "base/mutex.h"

namespace sluice::tools {

enum ExitCode : int { kExitOk = 0, kExitFailed = 1, kExitUsage = 2, kExitUnreachable = 3 };

// Success, or the exit code and the message printed after "error: ".
class CommandStatus {
 public:
  CommandStatus() = default;  // OK.

  // "NAME: detail", e.g. "TOPIC_ALREADY_EXISTS: Topic 'x' already exists.";
  // transport-level errors (timeouts, no broker) map to kExitUnreachable.
  static CommandStatus Kafka(rd_kafka_resp_err_t err, std::string_view detail = {});
  static CommandStatus Failed(std::string msg) { return {kExitFailed, std::move(msg)}; }
  static CommandStatus Usage(std::string msg) { return {kExitUsage, std::move(msg)}; }
  static CommandStatus Unreachable(std::string msg) { return {kExitUnreachable, std::move(msg)}; }
  static CommandStatus FromStatus(const Status& s);  // A parse error: usage.

  bool ok() const { return exit_code_ == kExitOk; }
  int exit_code() const { return exit_code_; }
  const std::string& message() const { return message_; }
  // The Kafka error behind a Kafka() status, else NO_ERROR.
  rd_kafka_resp_err_t kafka_error() const { return kafka_error_; }

 private:
  CommandStatus(int code, std::string msg) : exit_code_(code), message_(std::move(msg)) {}

  int exit_code_ = kExitOk;
  std::string message_;
  rd_kafka_resp_err_t kafka_error_ = RD_KAFKA_RESP_ERR_NO_ERROR;
};

// Prints "error: <message>" to stderr unless `s` is OK; returns the exit code.
int Finish(const CommandStatus& s);

// Whether a consumer's error is one that waiting longer cannot cure.
bool IsPermanentConsumeError(rd_kafka_resp_err_t err);

// Options shared by every subcommand.
struct GlobalOptions {
  std::string bootstrap = "127.0.0.1:9092";
  std::vector<std::string> properties;  // -X name=value, passed to librdkafka as is.
  int timeout_ms = 10000;
  bool verbose = false;  // Show librdkafka's own log lines.
};

// unique_ptr for librdkafka objects, each freed by its own destroy function.
template <auto Destroy>
struct RdDeleter {
  template <typename T>
  void operator()(T* p) const { Destroy(p); }
};
template <typename T, auto Destroy>
using RdPtr = std::unique_ptr<T, RdDeleter<Destroy>>;

using QueuePtr = RdPtr<rd_kafka_queue_t, rd_kafka_queue_destroy>;
using EventPtr = RdPtr<rd_kafka_event_t, rd_kafka_event_destroy>;
using MetadataPtr = RdPtr<const rd_kafka_metadata_t, rd_kafka_metadata_destroy>;
using PartitionListPtr = RdPtr<rd_kafka_topic_partition_list_t, rd_kafka_topic_partition_list_destroy>;
using HeadersPtr = RdPtr<rd_kafka_headers_t, rd_kafka_headers_destroy>;
using AdminOptionsPtr = RdPtr<rd_kafka_AdminOptions_t, rd_kafka_AdminOptions_destroy>;

// One rd_kafka_t (producer or consumer), with logs and errors captured so the
// tool can print one clear line instead of librdkafka's log stream.
class KafkaClient {
 public:
  enum class Role { kProducer, kConsumer };

  // `settings` are the command's own properties (acks, group.id, ...); -X
  // properties are applied after them so the user has the last word.
  static CommandStatus Open(const GlobalOptions& global, Role role,
                            const std::vector<KeyValue>& settings,
                            std::unique_ptr<KafkaClient>* out);
  // Open, then FetchMetadata (of all topics, or only `topic`): a client that
  // has reached a broker, so that a command fails fast with exit code 3
  // when none answers, with the metadata most commands start from.
  static CommandStatus Connect(const GlobalOptions& global, Role role,
                               const std::vector<KeyValue>& settings,
                               std::unique_ptr<KafkaClient>* out, MetadataPtr* md,
                               const char* topic = nullptr);
  ~KafkaClient();
  KafkaClient(const KafkaClient&) = delete;
  KafkaClient& operator=(const KafkaClient&) = delete;

  rd_kafka_t* get() const { return rk_; }
  int timeout_ms() const { return timeout_ms_; }

  // Metadata for all topics (or only `topic`, which lets a broker that
  // auto-creates topics create it), retried until a broker answers or the
  // timeout passes (then kExitUnreachable, naming the last connection error).
  CommandStatus FetchMetadata(MetadataPtr* out, const char* topic = nullptr);

  // The controller, as freshly fetched metadata names it: where the
  // cluster-only calls librdkafka 2.0 lacks (ElectLeaders, the KIP-455
  // reassignment calls) are sent with rpc::Connection. Failed on a single
  // node, which names no controller.
  struct Controller {
    int32_t id = -1;
    std::string host;
    int port = 0;
  };
  CommandStatus FindController(Controller* out);
  // Kafka's NOT_CONTROLLER: the controller moved; find it again.
  static constexpr int16_t kNotController = 41;

  // A consumer's group subscription to `topic`.
  CommandStatus Subscribe(const std::string& topic);
  // Whether a consumer has partitions assigned (by its group or by hand).
  bool HasAssignment();

  // Broker `id`'s entry in `md`, or null.
  static const rd_kafka_metadata_broker_t* FindBroker(const rd_kafka_metadata_t& md, int32_t id);
  // The topic's entry in `md`, or UNKNOWN_TOPIC_OR_PART as a failure.
  static CommandStatus FindTopic(const rd_kafka_metadata_t& md, std::string_view topic,
                                 const rd_kafka_metadata_topic_t** out);

  // Starts an admin request via `start(options, queue)` and waits for its
  // result event, which must be of `type` and carry no request-level error.
  template <typename StartFn>
  CommandStatus RunAdmin(rd_kafka_event_type_t type, StartFn start, EventPtr* result) {
    AdminOptionsPtr options(rd_kafka_AdminOptions_new(rk_, RD_KAFKA_ADMIN_OP_ANY));
    CommandStatus s = PrepareAdminOptions(options.get());
    if (!s.ok()) return s;
    QueuePtr queue(rd_kafka_queue_new(rk_));
    start(options.get(), queue.get());
    return AwaitAdminResult(queue.get(), type, result);
  }

  // The last error librdkafka reported through error_cb, or "".
  std::string last_error();

  // Called from rd_kafka_poll()/flush() for every produced message.
  void set_delivery_handler(std::function<void(const rd_kafka_message_t&)> handler) {
    on_delivery_ = std::move(handler);
  }

 private:
  KafkaClient(std::string bootstrap, int timeout_ms)
      : bootstrap_(std::move(bootstrap)), timeout_ms_(timeout_ms) {}

  static void OnError(rd_kafka_t* rk, int err, const char* reason, void* opaque);
  static void OnDelivery(rd_kafka_t* rk, const rd_kafka_message_t* m, void* opaque);
  static void OnLog(const rd_kafka_t* rk, int level, const char* fac, const char* buf);

  CommandStatus PrepareAdminOptions(rd_kafka_AdminOptions_t* options);
  CommandStatus AwaitAdminResult(rd_kafka_queue_t* queue, rd_kafka_event_type_t type,
                                 EventPtr* result);
  CommandStatus UnreachableError(rd_kafka_resp_err_t err);

  rd_kafka_t* rk_ = nullptr;
  std::string bootstrap_;
  int timeout_ms_;
  bool verbose_ = false;
  std::function<void(const rd_kafka_message_t&)> on_delivery_;
  Mutex mu_;
  std::string last_error_ GUARDED_BY(mu_);
};

}  // namespace sluice::tools
