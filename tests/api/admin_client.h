// librdkafka's admin C API on one handle, each call waiting for its result,
// and raw protocol round trips for what librdkafka 2.0 cannot send (or to
// read response fields it does not expose). For the integration tests.
#pragma once

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "base/endian.h"
#include "protocol/api_registry.h"
#include "protocol/header.h"

namespace sluice::testing {

struct ConfigRow {
  std::optional<std::string> value;
  int source = -1;
  bool read_only = false;
  bool is_default = false;
  std::vector<std::string> synonyms;  // Names, most specific first.
};

struct ResourceResult {
  int error = -1;
  std::string message;
  std::map<std::string, ConfigRow> configs;
};

// librdkafka's admin C API on one handle; every call waits for its result.
class Admin {
 public:
  explicit Admin(const std::string& bootstrap) {
    char err[512];
    rd_kafka_conf_t* conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "bootstrap.servers", bootstrap.c_str(), err, sizeof(err));
    rk_ = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
    queue_ = rd_kafka_queue_new(rk_);
  }
  ~Admin() {
    rd_kafka_queue_destroy(queue_);
    rd_kafka_destroy(rk_);
  }
  Admin(const Admin&) = delete;
  Admin& operator=(const Admin&) = delete;

  // CreateTopics of one topic with a manual replica assignment (one broker
  // list per partition, from partition 0): (error code, message).
  std::pair<int, std::string> CreateTopicAssigned(const std::string& topic,
                                                  const std::vector<std::vector<int32_t>>& assignments,
                                                  bool validate_only = false) {
    char err[512];
    // librdkafka wants the partition count here with an assignment.
    rd_kafka_NewTopic_t* nt = rd_kafka_NewTopic_new(
        topic.c_str(), static_cast<int>(assignments.size()), -1, err, sizeof(err));
    if (nt == nullptr) return {-1000, err};
    for (size_t i = 0; i < assignments.size(); ++i) {
      std::vector<int32_t> ids = assignments[i];
      if (rd_kafka_NewTopic_set_replica_assignment(nt, static_cast<int32_t>(i), ids.data(),
                                                   ids.size(), err, sizeof(err)) != 0) {
        rd_kafka_NewTopic_destroy(nt);
        return {-1000, err};
      }
    }
    auto* opts = Options(RD_KAFKA_ADMIN_OP_CREATETOPICS, validate_only);
    rd_kafka_CreateTopics(rk_, &nt, 1, opts, queue_);
    std::pair<int, std::string> out = TopicResult(RD_KAFKA_EVENT_CREATETOPICS_RESULT);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewTopic_destroy(nt);
    return out;
  }

  // DeleteTopics of one topic: (error code, message).
  std::pair<int, std::string> DeleteTopic(const std::string& topic) {
    rd_kafka_DeleteTopic_t* dt = rd_kafka_DeleteTopic_new(topic.c_str());
    auto* opts = Options(RD_KAFKA_ADMIN_OP_DELETETOPICS, false);
    rd_kafka_DeleteTopics(rk_, &dt, 1, opts, queue_);
    std::pair<int, std::string> out = TopicResult(RD_KAFKA_EVENT_DELETETOPICS_RESULT);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_DeleteTopic_destroy(dt);
    return out;
  }

  // (error code, message) of the single topic result.
  std::pair<int, std::string> CreatePartitions(
      const std::string& topic, int total, bool validate_only = false,
      const std::vector<std::vector<int32_t>>& assignments = {}) {
    char err[512];
    rd_kafka_NewPartitions_t* np = rd_kafka_NewPartitions_new(topic.c_str(), total, err, sizeof(err));
    for (size_t i = 0; i < assignments.size(); ++i) {
      std::vector<int32_t> ids = assignments[i];
      rd_kafka_NewPartitions_set_replica_assignment(np, static_cast<int32_t>(i), ids.data(),
                                                    ids.size(), err, sizeof(err));
    }
    auto* opts = Options(RD_KAFKA_ADMIN_OP_CREATEPARTITIONS, validate_only);
    rd_kafka_CreatePartitions(rk_, &np, 1, opts, queue_);
    std::pair<int, std::string> out{-1000, "no result"};
    if (rd_kafka_event_t* ev = Wait(RD_KAFKA_EVENT_CREATEPARTITIONS_RESULT)) {
      size_t n = 0;
      const rd_kafka_topic_result_t** res = rd_kafka_CreatePartitions_result_topics(
          rd_kafka_event_CreatePartitions_result(ev), &n);
      if (rd_kafka_event_error(ev)) {
        out = {rd_kafka_event_error(ev), rd_kafka_event_error_string(ev)};
      } else if (n == 1) {
        const char* msg = rd_kafka_topic_result_error_string(res[0]);
        out = {rd_kafka_topic_result_error(res[0]), msg ? msg : ""};
      }
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_NewPartitions_destroy(np);
    return out;
  }

  ResourceResult DescribeConfigs(rd_kafka_ResourceType_t type, const std::string& name) {
    rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(type, name.c_str());
    auto* opts = Options(RD_KAFKA_ADMIN_OP_DESCRIBECONFIGS, false);
    rd_kafka_DescribeConfigs(rk_, &res, 1, opts, queue_);
    ResourceResult out = Collect(RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    return out;
  }

  ResourceResult AlterConfigs(rd_kafka_ResourceType_t type, const std::string& name,
                              const std::map<std::string, std::string>& configs,
                              bool validate_only = false) {
    rd_kafka_ConfigResource_t* res = rd_kafka_ConfigResource_new(type, name.c_str());
    for (const auto& [k, v] : configs) rd_kafka_ConfigResource_set_config(res, k.c_str(), v.c_str());
    auto* opts = Options(RD_KAFKA_ADMIN_OP_ALTERCONFIGS, validate_only);
    rd_kafka_AlterConfigs(rk_, &res, 1, opts, queue_);
    ResourceResult out = Collect(RD_KAFKA_EVENT_ALTERCONFIGS_RESULT);
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_ConfigResource_destroy(res);
    return out;
  }

  // (error code, low watermark) per partition asked, in order.
  std::vector<std::pair<int, int64_t>> DeleteRecords(
      const std::string& topic, const std::vector<std::pair<int32_t, int64_t>>& offsets) {
    rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
    for (const auto& [p, o] : offsets) rd_kafka_topic_partition_list_add(list, topic.c_str(), p)->offset = o;
    rd_kafka_DeleteRecords_t* del = rd_kafka_DeleteRecords_new(list);
    rd_kafka_topic_partition_list_destroy(list);
    auto* opts = Options(RD_KAFKA_ADMIN_OP_DELETERECORDS, false);
    rd_kafka_DeleteRecords(rk_, &del, 1, opts, queue_);
    std::vector<std::pair<int, int64_t>> out;
    if (rd_kafka_event_t* ev = Wait(RD_KAFKA_EVENT_DELETERECORDS_RESULT)) {
      const rd_kafka_topic_partition_list_t* got =
          rd_kafka_DeleteRecords_result_offsets(rd_kafka_event_DeleteRecords_result(ev));
      if (got != nullptr) {
        for (int i = 0; i < got->cnt; ++i) {
          out.emplace_back(got->elems[i].err, got->elems[i].offset);
        }
      } else {
        out.emplace_back(rd_kafka_event_error(ev), -1);
      }
      rd_kafka_event_destroy(ev);
    }
    rd_kafka_AdminOptions_destroy(opts);
    rd_kafka_DeleteRecords_destroy(del);
    return out;
  }

  rd_kafka_t* rk() { return rk_; }

 private:
  rd_kafka_AdminOptions_t* Options(rd_kafka_admin_op_t op, bool validate_only) {
    rd_kafka_AdminOptions_t* opts = rd_kafka_AdminOptions_new(rk_, op);
    char err[512];
    rd_kafka_AdminOptions_set_request_timeout(opts, 20000, err, sizeof(err));
    if (validate_only) rd_kafka_AdminOptions_set_validate_only(opts, 1, err, sizeof(err));
    return opts;
  }

  // The single topic result of a CreateTopics or DeleteTopics event.
  std::pair<int, std::string> TopicResult(rd_kafka_event_type_t type) {
    std::pair<int, std::string> out{-1000, "no result"};
    rd_kafka_event_t* ev = Wait(type);
    if (ev == nullptr) return out;
    size_t n = 0;
    const rd_kafka_topic_result_t** res =
        type == RD_KAFKA_EVENT_CREATETOPICS_RESULT
            ? rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &n)
            : rd_kafka_DeleteTopics_result_topics(rd_kafka_event_DeleteTopics_result(ev), &n);
    if (rd_kafka_event_error(ev)) {
      out = {rd_kafka_event_error(ev), rd_kafka_event_error_string(ev)};
    } else if (n == 1) {
      const char* msg = rd_kafka_topic_result_error_string(res[0]);
      out = {rd_kafka_topic_result_error(res[0]), msg ? msg : ""};
    }
    rd_kafka_event_destroy(ev);
    return out;
  }

  rd_kafka_event_t* Wait(rd_kafka_event_type_t type) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      rd_kafka_event_t* ev = rd_kafka_queue_poll(queue_, 1000);
      if (ev == nullptr) continue;
      if (rd_kafka_event_type(ev) == type) return ev;
      rd_kafka_event_destroy(ev);
    }
    return nullptr;
  }

  ResourceResult Collect(rd_kafka_event_type_t type) {
    ResourceResult out;
    rd_kafka_event_t* ev = Wait(type);
    if (ev == nullptr) return out;
    if (rd_kafka_event_error(ev)) {
      out.error = rd_kafka_event_error(ev);
      out.message = rd_kafka_event_error_string(ev);
      rd_kafka_event_destroy(ev);
      return out;
    }
    size_t n = 0;
    const rd_kafka_ConfigResource_t** resources =
        type == RD_KAFKA_EVENT_DESCRIBECONFIGS_RESULT
            ? rd_kafka_DescribeConfigs_result_resources(rd_kafka_event_DescribeConfigs_result(ev), &n)
            : rd_kafka_AlterConfigs_result_resources(rd_kafka_event_AlterConfigs_result(ev), &n);
    if (n == 1) {
      out.error = rd_kafka_ConfigResource_error(resources[0]);
      const char* msg = rd_kafka_ConfigResource_error_string(resources[0]);
      out.message = msg ? msg : "";
      size_t m = 0;
      const rd_kafka_ConfigEntry_t** entries = rd_kafka_ConfigResource_configs(resources[0], &m);
      for (size_t i = 0; i < m; ++i) {
        ConfigRow row;
        const char* v = rd_kafka_ConfigEntry_value(entries[i]);
        if (v != nullptr) row.value = v;
        row.source = rd_kafka_ConfigEntry_source(entries[i]);
        row.read_only = rd_kafka_ConfigEntry_is_read_only(entries[i]);
        row.is_default = rd_kafka_ConfigEntry_is_default(entries[i]);
        size_t s = 0;
        const rd_kafka_ConfigEntry_t** syn = rd_kafka_ConfigEntry_synonyms(entries[i], &s);
        for (size_t j = 0; j < s; ++j) row.synonyms.emplace_back(rd_kafka_ConfigEntry_name(syn[j]));
        out.configs[rd_kafka_ConfigEntry_name(entries[i])] = std::move(row);
      }
    }
    rd_kafka_event_destroy(ev);
    return out;
  }

  rd_kafka_t* rk_ = nullptr;
  rd_kafka_queue_t* queue_ = nullptr;
};

// One request/response over a plain TCP connection.
template <typename Response, typename Request>
Response RoundTrip(uint16_t port, const Request& request, int16_t version) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  EXPECT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  EXPECT_EQ(0, connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  protocol::RequestHeader header;
  header.request_api_key = Request::kApiKey;
  header.request_api_version = version;
  header.correlation_id = 42;
  header.client_id = "admin-test";
  std::vector<uint8_t> body = protocol::EncodeRequest(header, request);
  std::vector<uint8_t> frame(4);
  StoreBigEndian(frame.data(), static_cast<int32_t>(body.size()));
  frame.insert(frame.end(), body.begin(), body.end());
  EXPECT_EQ(static_cast<ssize_t>(frame.size()), write(fd, frame.data(), frame.size()));
  auto read_exact = [fd](uint8_t* p, size_t n) {
    while (n > 0) {
      ssize_t r = read(fd, p, n);
      if (r <= 0) return false;
      p += r;
      n -= static_cast<size_t>(r);
    }
    return true;
  };
  Response response;
  uint8_t size_bytes[4];
  if (!read_exact(size_bytes, 4)) {
    ADD_FAILURE() << "connection closed";
    close(fd);
    return response;
  }
  std::vector<uint8_t> in(static_cast<size_t>(LoadBigEndian<int32_t>(size_bytes)));
  EXPECT_TRUE(read_exact(in.data(), in.size()));
  close(fd);
  protocol::Reader reader(in);
  protocol::ResponseHeader rh;
  EXPECT_TRUE(rh.Decode(reader, protocol::ResponseHeaderVersion(Request::kApiKey, version)).ok());
  EXPECT_EQ(42, rh.correlation_id);
  Status s = response.Decode(reader, version);
  EXPECT_TRUE(s.ok()) << s.ToString();
  return response;
}

}  // namespace sluice::testing
