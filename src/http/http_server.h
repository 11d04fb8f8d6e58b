// HttpServer: the broker's HTTP endpoint, on its own port and its own threads
// so that a scrape never runs on (or waits for) a request shard.
//
//   GET /metrics   the registry in Prometheus text format 0.0.4
//   GET /healthz   200 "ok"
//   more GET routes via AddGet() (room for a web console)
//
// The broker configures it with `sluice.metrics.listener` (host:port, default
// 127.0.0.1:9644; empty disables the endpoint).
//
// Thread-safety: AddGet() before Start(); Start() and Stop() from one owning
// thread. Handlers run on the server's threads (two), concurrently with
// everything else, so they must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "base/status.h"
#include "metrics/registry.h"

namespace sluice::http {

struct HttpRequest {
  std::string path;
  std::multimap<std::string, std::string> params;  // Decoded query parameters.
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;

class HttpServer {
 public:
  // `port` 0 picks a free port (Start() returns it). The registry must
  // outlive the server.
  HttpServer(std::string host, uint16_t port, metrics::MetricsRegistry& registry);
  ~HttpServer();  // Stops the server.
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Serves GET `path` (an exact path) with `handler`. Call before Start().
  void AddGet(std::string path, HttpHandler handler);

  // Binds and starts serving; returns the bound port. Fails with IOError if
  // the address cannot be bound, InvalidArgument if already started.
  Result<uint16_t> Start();

  // Stops accepting, finishes in-flight requests and joins the threads.
  // Idempotent; a stopped server cannot be restarted.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace sluice::http
