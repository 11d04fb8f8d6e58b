#include "api/request_router.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include "api/handler_table.h"
#include "api/timed_responder.h"
#include "protocol/api_versions.h"
#include "protocol/error_code.h"
#include "protocol/header.h"
#include "protocol/wire/writer.h"

namespace sluice::api {

void RequestRouter::Handle(network::ConnectionContext& connection, network::Frame request,
                           network::Responder network_respond) {
  const auto start = TimedResponder::Clock::now();
  protocol::Reader in(request.bytes());
  // Decoded straight into the context the handler gets (no copy or move).
  RequestContext ctx;
  const Status header_status = protocol::DecodeRequestHeader(in, &ctx.header);
  const protocol::RequestHeader* header = &ctx.header;
  metrics::BrokerMetrics::Api* api = nullptr;
  if (metrics_ != nullptr) {
    metrics_->bytes_in().Increment(request.size() + 4);  // With the length prefix.
    // An undecodable header has no trustworthy key: api="unknown".
    api = &metrics_->ForApi(header_status.ok() ? header->request_api_key : int16_t{-1});
    api->requests.Increment();
  }
  TimedResponder respond(std::move(network_respond), metrics_, api, start);
  const int16_t invalid_request = protocol::ToWire(protocol::ErrorCode::INVALID_REQUEST);
  if (!header_status.ok()) {
    respond.RecordError(invalid_request);
    respond.CloseConnection(fmt::format("bad request header: {}", header_status.message()));
    return;
  }
  const HandlerEntry* entry =
      FindHandler(header->request_api_key, /*in_cluster=*/services_.replicas != nullptr);
  const int16_t version = header->request_api_version;
  if (protocol::NeedsApiVersionsFallback(*header)) {
    // KIP-511: a client newer than us; answer in v0 so it can downgrade.
    OutputChain chain;
    protocol::Writer out(&chain);
    protocol::ResponseHeader response_header;
    response_header.correlation_id = header->correlation_id;
    response_header.Encode(out, 0);
    protocol::UnsupportedApiVersionsResponse().Encode(out, 0);
    out.Finish();
    respond.RecordError(protocol::ToWire(protocol::ErrorCode::UNSUPPORTED_VERSION));
    respond.Send(std::move(chain));
    return;
  }
  if (entry == nullptr) {
    respond.RecordError(invalid_request);
    respond.CloseConnection(fmt::format("unknown api key {}", header->request_api_key));
    return;
  }
  if (version < entry->min_version || version > entry->max_version) {
    respond.RecordError(protocol::ToWire(protocol::ErrorCode::UNSUPPORTED_VERSION));
    respond.CloseConnection(fmt::format("api key {} version {} is not supported (supported {}-{})",
                                        header->request_api_key, version, entry->min_version,
                                        entry->max_version));
    return;
  }
  ctx.services = &services_;
  ctx.respond = std::move(respond);
  ctx.connection_id = connection.id();
  ctx.client_host = "/" + connection.peer_address();
  // The body is decoded from the frame's own buffer, which then moves into
  // the context: moving a Frame keeps its heap buffer where it is.
  const size_t body_offset = request.size() - in.remaining();
  ctx.frame = std::move(request);
  protocol::Reader body(ctx.frame.bytes().subspan(body_offset));
  entry->dispatch(std::move(ctx), body);
}

void RequestRouter::OnConnectionOpened(network::ConnectionContext& /*connection*/) {
  if (metrics_ != nullptr) metrics_->connections().Increment();
}

void RequestRouter::OnConnectionClosed(network::ConnectionContext& /*connection*/) {
  if (metrics_ != nullptr) metrics_->connections().Decrement();
}

}  // namespace sluice::api
