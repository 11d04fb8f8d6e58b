#include "interbroker/controller_channel_client.h"

#include <spdlog/spdlog.h>

namespace sluice::interbroker {
namespace {

bool SameRegistration(const zk::BrokerRegistration& a, const zk::BrokerRegistration& b) {
  return a.id == b.id && a.endpoints == b.endpoints &&
         a.security_protocols == b.security_protocols && a.rack == b.rack &&
         a.timestamp_ms == b.timestamp_ms;
}

}  // namespace

NetworkControllerChannel::NetworkControllerChannel(NetworkControllerChannelOptions options)
    : options_(std::move(options)) {}

NetworkControllerChannel::~NetworkControllerChannel() { Shutdown(); }

Status NetworkControllerChannel::AddBroker(const zk::BrokerRegistration& broker) {
  std::optional<Endpoint> endpoint = FindEndpoint(broker, options_.listener);
  if (!endpoint) {
    return Status::InvalidArgument("broker " + std::to_string(broker.id) +
                                   " has no endpoint that parses");
  }
  Result<std::shared_ptr<rpc::ShutdownSignal>> signal = rpc::ShutdownSignal::Create();
  if (!signal.ok()) return signal.status();

  std::vector<std::unique_ptr<RequestSendThread>> replaced;
  {
    MutexLock lock(&mu_);
    if (shut_down_) return Status::Aborted("controller channel shut down");
    auto it = brokers_.find(broker.id);
    if (it != brokers_.end()) {
      if (SameRegistration(it->second.registration, broker)) return Status::Ok();
      replaced.push_back(std::move(it->second.sender));
      brokers_.erase(it);
    }
    if (!options_.listener.empty() && endpoint->listener != options_.listener) {
      spdlog::warn("broker {} has no {} listener; the controller reaches it at {}", broker.id,
                   options_.listener, FormatEndpoint(*endpoint));
    }
    brokers_.emplace(broker.id,
                     Broker{.registration = broker,
                            .sender = std::make_unique<RequestSendThread>(
                                broker.id, *endpoint, &options_, std::move(signal).value())});
  }
  // Outside mu_: a Send* meanwhile already goes to the new sender.
  StopAll(std::move(replaced));
  return Status::Ok();
}

void NetworkControllerChannel::RemoveBroker(int32_t broker_id) {
  std::vector<std::unique_ptr<RequestSendThread>> removed;
  {
    MutexLock lock(&mu_);
    auto it = brokers_.find(broker_id);
    if (it == brokers_.end()) return;
    removed.push_back(std::move(it->second.sender));
    brokers_.erase(it);
  }
  StopAll(std::move(removed));
}

void NetworkControllerChannel::Shutdown() {
  std::vector<std::unique_ptr<RequestSendThread>> all;
  {
    MutexLock lock(&mu_);
    shut_down_ = true;
    for (auto& [id, broker] : brokers_) all.push_back(std::move(broker.sender));
    brokers_.clear();
  }
  StopAll(std::move(all));
}

void NetworkControllerChannel::StopAll(std::vector<std::unique_ptr<RequestSendThread>> senders) {
  for (auto& sender : senders) sender->Stop();
  for (auto& sender : senders) sender->Join();
}

void NetworkControllerChannel::SendLeaderAndIsr(int32_t broker_id,
                                                controller::LeaderAndIsrRequest request) {
  auto wire =
      std::make_shared<const protocol::LeaderAndIsrRequest>(ToWire(request, options_.listener));
  MutexLock lock(&mu_);
  Enqueue(broker_id, std::move(wire));
}

void NetworkControllerChannel::SendUpdateMetadata(std::vector<int32_t> broker_ids,
                                                  controller::UpdateMetadataRequest request) {
  // Converted once; every broker's queue shares it.
  auto wire = std::make_shared<const protocol::UpdateMetadataRequest>(ToWire(request));
  MutexLock lock(&mu_);
  for (int32_t id : broker_ids) Enqueue(id, wire);
}

void NetworkControllerChannel::SendStopReplica(int32_t broker_id,
                                               controller::StopReplicaRequest request) {
  auto wire = std::make_shared<const protocol::StopReplicaRequest>(ToWire(request));
  MutexLock lock(&mu_);
  Enqueue(broker_id, std::move(wire));
}

void NetworkControllerChannel::Enqueue(int32_t broker_id, QueuedRequest request) {
  const int16_t api_key = ApiKeyOf(request);
  auto it = brokers_.find(broker_id);
  // A sender in the map is never stopping (it leaves the map first), so
  // its Enqueue only fails after Shutdown, which empties the map.
  if (it != brokers_.end() && it->second.sender->Enqueue(std::move(request))) return;
  dropped_.fetch_add(1, std::memory_order_relaxed);
  spdlog::warn("not sending controller request (api key {}) to broker {}: {}", api_key, broker_id,
               shut_down_ ? "the channel is shut down" : "it is not live");
}

std::vector<int32_t> NetworkControllerChannel::brokers() const {
  MutexLock lock(&mu_);
  std::vector<int32_t> ids;
  for (const auto& [id, broker] : brokers_) ids.push_back(id);
  return ids;
}

}  // namespace sluice::interbroker
