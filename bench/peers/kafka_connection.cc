#include "kafka_connection.h"

#include <algorithm>
#include <chrono>
#include <string_view>

#include "protocol/error_code.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/response_header.h"

namespace sluice::bench {

namespace {

// Kafka's default socket.request.max.bytes: a larger size prefix means the
// stream is out of step, not a big response.
constexpr int32_t kMaxFrameBytes = 100 * 1024 * 1024;

}  // namespace

std::string KafkaConnection::Connect(const std::string& host_port, std::string client_id) {
  client_id_ = std::move(client_id);
  if (std::string err = stream_.Connect(host_port); !err.empty()) return err;

  // v3 first, as clients do; a broker that does not speak it answers
  // UNSUPPORTED_VERSION with its own range, and v0 is then always understood.
  for (int16_t version : {int16_t{3}, int16_t{0}}) {
    protocol::ApiVersionsRequest request;
    request.client_software_name = client_id_;
    request.client_software_version = "1";
    protocol::ApiVersionsResponse response;
    std::string err = Call(request, version, &response, 10000);
    if (!err.empty()) return "handshake with " + host_port + ": " + err;
    if (response.error_code == protocol::ToWire(protocol::ErrorCode::UNSUPPORTED_VERSION) &&
        version != 0) {
      continue;
    }
    if (response.error_code != 0) {
      return "ApiVersions: error code " + std::to_string(response.error_code);
    }
    for (const auto& api : response.api_keys) {
      broker_versions_[api.api_key] = {api.min_version, api.max_version};
    }
    return "";
  }
  return "ApiVersions: no version the broker speaks";
}

int16_t KafkaConnection::Version(int16_t api_key, int16_t at_most) const {
  const protocol::ApiInfo* ours = protocol::FindApi(api_key);
  auto theirs = broker_versions_.find(api_key);
  if (ours == nullptr || theirs == broker_versions_.end()) return -1;
  int16_t high = std::min({at_most, ours->max_version, theirs->second.second});
  int16_t low = std::max(ours->min_version, theirs->second.first);
  return high >= low ? high : int16_t{-1};
}

void KafkaConnection::Queue(std::vector<uint8_t> frame, InFlight request) {
  StoreBigEndian(frame.data(), static_cast<int32_t>(frame.size() - 4));
  stream_.Queue({reinterpret_cast<const char*>(frame.data()), frame.size()});
  in_flight_.push_back(request);
}

std::string KafkaConnection::Await(int timeout_ms, const ResponseHandler& on_response,
                                   const bool* answered) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!*answered) {
    if (!Poll(100, on_response)) return stream_.error();
    if (std::chrono::steady_clock::now() > deadline) return "no response";
  }
  return "";
}

bool KafkaConnection::Poll(int timeout_ms, const ResponseHandler& on_response) {
  if (!stream_.error().empty()) return false;
  // Before waiting: the request may be what the wait is for.
  if (!stream_.Flush()) return false;
  if (!stream_.WaitAndRead(timeout_ms)) return false;
  if (!Parse(on_response)) return false;
  return stream_.Flush();
}

bool KafkaConnection::Parse(const ResponseHandler& on_response) {
  protocol::ResponseHeader header;
  for (;;) {
    std::string_view input = stream_.input();
    if (input.size() < 4) break;
    const auto* frame = reinterpret_cast<const uint8_t*>(input.data());
    int32_t size = LoadBigEndian<int32_t>(frame);
    if (size < 4 || size > kMaxFrameBytes) {
      return stream_.Fail("bad response frame size " + std::to_string(size));
    }
    if (input.size() - 4 < static_cast<size_t>(size)) break;  // Not all here yet.
    if (in_flight_.empty()) return stream_.Fail("a response to no request");
    InFlight request = in_flight_.front();
    in_flight_.pop_front();
    protocol::Reader in({frame + 4, static_cast<size_t>(size)});
    Status s = header.Decode(in, protocol::ResponseHeaderVersion(request.api_key, request.version));
    if (!s.ok()) return stream_.Fail("response header: " + s.ToString());
    if (header.correlation_id != request.correlation_id) {
      return stream_.Fail("response " + std::to_string(header.correlation_id) + " where " +
                          std::to_string(request.correlation_id) + " was due (out of order)");
    }
    stream_.Consume(4 + static_cast<size_t>(size));
    on_response(request.correlation_id, in);
  }
  return true;
}

}  // namespace sluice::bench
