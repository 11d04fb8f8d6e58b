#include "broker/placeholder_handler.h"

#include <spdlog/spdlog.h>

#include "base/endian.h"

namespace sluice::broker {

void PlaceholderHandler::Handle(network::ConnectionContext& connection, network::Frame request,
                                network::Responder respond) {
  if (request.size() >= 2) {
    spdlog::info("connection {} from {}:{}: request with api key {} ({} bytes); no protocol "
                 "layer yet, closing",
                 connection.id(), connection.peer_address(), connection.peer_port(),
                 LoadBigEndian<int16_t>(request.data()), request.size());
  } else {
    spdlog::info("connection {}: request of {} bytes has no api key; closing", connection.id(),
                 request.size());
  }
  respond.CloseConnection("no protocol layer yet");
}

}  // namespace sluice::broker
