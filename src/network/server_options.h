// ServerOptions: everything the network server is configured with. The broker
// fills it from BrokerConfig (names in comments); tests set it directly.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace sluice::network {

struct ListenerSpec {
  std::string name = "PLAINTEXT";  // Listener name, reported in ConnectionContext.
  std::string host = "127.0.0.1";  // Empty: every interface.
  uint16_t port = 0;               // 0: pick a free port (see Server::bound_ports).
};

struct ServerOptions {
  std::vector<ListenerSpec> listeners{ListenerSpec{}};

  // Number of shards (threads with one io_context each); 0 = one per core.
  int shards = 0;                                      // sluice.network.shards
  // Largest request accepted, checked on the length prefix.
  int32_t max_request_bytes = 104857600;               // socket.request.max.bytes
  // Back-pressure per connection: reading stops while this many requests
  // await their response, or while this many response bytes await writing.
  size_t max_inflight_requests = 100;        // sluice.connection.max.inflight.requests
  size_t max_queued_write_bytes = 32u << 20;  // sluice.connection.max.queued.bytes
  // Connections with no traffic and nothing in flight for this long close.
  std::chrono::milliseconds idle_timeout{600000};       // connections.max.idle.ms
  // SO_SNDBUF / SO_RCVBUF of accepted sockets; <= 0 leaves the OS default
  // (Linux autotuning).
  int send_buffer_bytes = -1;                          // socket.send.buffer.bytes
  int receive_buffer_bytes = -1;                       // socket.receive.buffer.bytes
  int listen_backlog = 1024;                           // socket.listen.backlog.size
};

}  // namespace sluice::network
