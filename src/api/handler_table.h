// The Kafka APIs this broker implements, each with the version range its
// handler supports. ApiVersions advertises exactly this table (intersected
// with what the protocol layer can parse), so an API is never advertised
// before it has a handler.
#pragma once

#include <cstdint>
#include <span>

#include "api/request_context.h"
#include "protocol/wire/reader.h"

namespace sluice::api {

struct HandlerEntry {
  int16_t api_key;
  int16_t min_version;
  int16_t max_version;
  // Decodes the body from `in` and handles the request.
  void (*dispatch)(RequestContext ctx, protocol::Reader& in);
  // Served and advertised only by a broker in a cluster (the controller's
  // requests to brokers); a single node treats the key as unknown.
  bool cluster_only = false;
};

// Ordered by api key.
std::span<const HandlerEntry> Handlers();
const HandlerEntry* FindHandler(int16_t api_key);
// FindHandler, without the cluster-only APIs unless `in_cluster`.
const HandlerEntry* FindHandler(int16_t api_key, bool in_cluster);

}  // namespace sluice::api
