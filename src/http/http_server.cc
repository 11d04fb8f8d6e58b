#include "http/http_server.h"

#include <sys/socket.h>

#include <atomic>
#include <chrono>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

#include <fmt/format.h>
#include <httplib.h>

#include "metrics/exposition.h"

namespace sluice::http {

namespace {
constexpr int kServerThreads = 2;
// Regex-escapes `path` so AddGet paths match literally.
std::string LiteralPattern(std::string_view path) {
  std::string out;
  for (char c : path) {
    if (std::string_view("\\^$.|?*+()[]{}").find(c) != std::string_view::npos) out.push_back('\\');
    out.push_back(c);
  }
  return out;
}
}  // namespace

struct HttpServer::Impl {
  std::string host;
  uint16_t port;
  metrics::MetricsRegistry& registry;
  std::vector<std::pair<std::string, HttpHandler>> routes;
  httplib::Server server;
  std::thread thread;
  std::atomic<bool> loop_exited{false};
  bool started = false;
  bool stopped = false;

  Impl(std::string h, uint16_t p, metrics::MetricsRegistry& r)
      : host(std::move(h)), port(p), registry(r) {}
};

HttpServer::HttpServer(std::string host, uint16_t port, metrics::MetricsRegistry& registry)
    : impl_(std::make_unique<Impl>(std::move(host), port, registry)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::AddGet(std::string path, HttpHandler handler) {
  impl_->routes.emplace_back(std::move(path), std::move(handler));
}

Result<uint16_t> HttpServer::Start() {
  Impl& s = *impl_;
  if (s.started) return Status::InvalidArgument("HTTP server already started");
  s.server.new_task_queue = [] { return new httplib::ThreadPool(kServerThreads); };
  // Small timeouts: a slow or stuck client must not hold a thread for long,
  // and Stop() waits for in-flight connections.
  s.server.set_keep_alive_timeout(2);
  s.server.set_read_timeout(5);
  s.server.set_write_timeout(5);
  s.server.set_payload_max_length(64 * 1024);
  // httplib's default sets SO_REUSEPORT, which would let a second broker
  // bind the same port and silently take half of the scrapes. SO_REUSEADDR
  // alone still allows a quick restart.
  s.server.set_socket_options([](socket_t sock) {
    int yes = 1;
    setsockopt(sock, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof(yes));
  });

  metrics::MetricsRegistry* registry = &s.registry;
  s.server.Get("/metrics", [registry](const httplib::Request&, httplib::Response& res) {
    std::string body;
    registry->RenderTo(&body);
    res.set_content(std::move(body), std::string(metrics::kExpositionContentType).c_str());
  });
  s.server.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok", "text/plain; charset=utf-8");
  });
  for (auto& [path, handler] : s.routes) {
    s.server.Get(LiteralPattern(path), [h = handler](const httplib::Request& req,
                                                     httplib::Response& res) {
      HttpRequest request{req.path, {req.params.begin(), req.params.end()}};
      HttpResponse response = h(request);
      res.status = response.status;
      res.set_content(std::move(response.body), response.content_type.c_str());
    });
  }

  int port = 0;
  if (s.port == 0) {
    port = s.server.bind_to_any_port(s.host);
    if (port < 0) return Status::IOError(fmt::format("HTTP server: cannot listen on {}:0", s.host));
  } else {
    if (!s.server.bind_to_port(s.host, s.port)) {
      return Status::IOError(fmt::format("HTTP server: cannot listen on {}:{}", s.host, s.port));
    }
    port = s.port;
  }
  s.started = true;
  s.thread = std::thread([&s] {
    s.server.listen_after_bind();
    s.loop_exited = true;
  });
  // httplib's stop() does nothing until the accept loop runs: wait for it, so
  // that a Stop() right after Start() is not lost.
  while (!s.server.is_running() && !s.loop_exited) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  if (s.loop_exited) {  // The accept loop failed at once.
    s.thread.join();
    s.stopped = true;
    return Status::IOError(fmt::format("HTTP server on {}:{} stopped right after starting",
                                       s.host, port));
  }
  return static_cast<uint16_t>(port);
}

void HttpServer::Stop() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  s.server.stop();
  if (s.thread.joinable()) s.thread.join();
}

}  // namespace sluice::http
