// RequestContext: one decoded request header with what a handler needs to
// answer it. Move-only; a handler that answers later moves it into its
// continuation. The frame is kept because decoded requests hold views into it
// (record batches are never copied).
#pragma once

#include <functional>
#include <string>

#include "api/broker_services.h"
#include "api/timed_responder.h"
#include "base/output_chain.h"
#include "network/frame.h"
#include "network/request_handler.h"
#include "protocol/api_registry.h"
#include "protocol/generated/request_header.h"
#include "protocol/generated/response_header.h"
#include "protocol/wire/writer.h"

namespace sluice::api {

struct RequestContext {
  BrokerServices* services = nullptr;
  protocol::RequestHeader header;
  network::Frame frame;
  TimedResponder respond;  // Feeds the request metrics (timed_responder.h).
  uint64_t connection_id = 0;
  std::string client_host;  // The peer's address, as group descriptions show it.

  int16_t version() const { return header.request_api_version; }

  // Counts an error code this request's response carries (top-level or per
  // partition) in sluice_request_errors_total; 0 is ignored.
  void RecordError(int16_t error_code) const { respond.RecordError(error_code); }

  // Encodes `body` after the response header of this request's version and
  // sends it (without the length prefix; the connection adds it).
  template <typename Response>
  void Respond(const Response& body) {
    respond.Send(Encode(header.correlation_id, version(), body));
  }

  // Answers with what `make` returns when this request's turn comes on its
  // connection (network::Responder::SendInTurn: every earlier request
  // answered), not now. `make` runs on the connection's shard thread after
  // this context is gone: it must own what it uses (and record errors
  // through the TimedResponder::ErrorRecorder it is given).
  template <typename Response>
  void RespondInTurn(std::function<Response(const TimedResponder::ErrorRecorder&)> make) {
    respond.SendInTurn([correlation_id = header.correlation_id, version = version(),
                        errors = respond.error_recorder(), make = std::move(make)] {
      return Encode(correlation_id, version, make(errors));
    });
  }

  // `body` after the response header of its version, without the length
  // prefix (the connection adds it).
  template <typename Response>
  static OutputChain Encode(int32_t correlation_id, int16_t version, const Response& body) {
    OutputChain chain;
    protocol::Writer out(&chain);
    protocol::ResponseHeader rh;
    rh.correlation_id = correlation_id;
    rh.Encode(out, protocol::ResponseHeaderVersion(Response::kApiKey, version));
    body.Encode(out, version);
    out.Finish();
    return chain;
  }
};

}  // namespace sluice::api
