// One Kafka protocol connection for the lean producer load generator
// (kafka_bench): size-prefixed frames over TCP, encoded and decoded with the
// project's generated messages. Requests are pipelined; the broker answers
// them in order, so responses are matched to requests by a FIFO and checked
// by correlation id. Single-threaded; non-blocking after the handshake, so one
// loop keeps many Produce requests in flight.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "base/status.h"
#include "protocol/api_registry.h"
#include "protocol/generated/request_header.h"
#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"
#include "tcp_stream.h"

namespace sluice::bench {

class KafkaConnection {
 public:
  // Called for each response, in request order: its correlation id and a
  // reader positioned at the body (valid during the call).
  using ResponseHandler = std::function<void(int32_t correlation_id, protocol::Reader& body)>;

  KafkaConnection() = default;
  KafkaConnection(const KafkaConnection&) = delete;
  KafkaConnection& operator=(const KafkaConnection&) = delete;

  // Connects to HOST:PORT and asks ApiVersions, as a client does before
  // anything else. Empty on success, else why.
  std::string Connect(const std::string& host_port, std::string client_id);

  // The highest version of `api_key` both the broker and this build speak,
  // capped at `at_most`; -1 when there is none.
  int16_t Version(int16_t api_key, int16_t at_most) const;

  // Queues a request (nothing is written until Flush or Poll) and returns
  // its correlation id.
  template <typename Body>
  int32_t Send(const Body& body, int16_t version) {
    protocol::RequestHeader header;
    header.request_api_key = Body::kApiKey;
    header.request_api_version = version;
    header.correlation_id = next_correlation_id_++;
    header.client_id = client_id_;
    protocol::Writer out;
    out.WriteInt32(0);  // Size, patched by Queue.
    header.Encode(out, protocol::RequestHeaderVersion(Body::kApiKey, version));
    body.Encode(out, version);
    Queue(out.Take(), {header.correlation_id, Body::kApiKey, version});
    return header.correlation_id;
  }

  // One request and its response, waiting up to `timeout_ms` (admin calls,
  // with nothing else in flight). Empty on success, else why.
  template <typename Request, typename Response>
  std::string Call(const Request& request, int16_t version, Response* response,
                   int timeout_ms = 30000) {
    Send(request, version);
    bool answered = false;
    Status decoded;
    std::string err = Await(
        timeout_ms,
        [&](int32_t, protocol::Reader& body) {
          decoded = response->Decode(body, version);
          answered = true;
        },
        &answered);
    if (err.empty() && !decoded.ok()) err = decoded.ToString();
    return err.empty() ? "" : std::string(Request::kName) + ": " + err;
  }

  // Writes what the socket takes now. False on a broken connection.
  bool Flush() { return stream_.Flush(); }
  // Waits up to `timeout_ms` for input (and for room to write, if anything is
  // queued), then reads what arrived, hands each complete response to
  // `on_response` and writes what it can. False on a broken connection or a
  // response out of order (see error()).
  bool Poll(int timeout_ms, const ResponseHandler& on_response);

  // Bytes of requests queued so far, and how many of them the socket has
  // taken: a request is on the wire once written() reaches its end.
  uint64_t queued() const { return stream_.written() + stream_.queued_bytes(); }
  uint64_t written() const { return stream_.written(); }
  size_t in_flight() const { return in_flight_.size(); }
  const std::string& error() const { return stream_.error(); }

 private:
  struct InFlight {
    int32_t correlation_id;
    int16_t api_key;
    int16_t version;
  };

  void Queue(std::vector<uint8_t> frame, InFlight request);
  // Polls until *answered (set by `on_response`) or `timeout_ms` passed.
  std::string Await(int timeout_ms, const ResponseHandler& on_response, const bool* answered);
  // Hands every complete frame in the input to `on_response`.
  bool Parse(const ResponseHandler& on_response);

  TcpStream stream_{"broker"};
  std::string client_id_;
  int32_t next_correlation_id_ = 1;
  std::map<int16_t, std::pair<int16_t, int16_t>> broker_versions_;  // key -> [min, max]
  std::deque<InFlight> in_flight_;
};

}  // namespace sluice::bench
