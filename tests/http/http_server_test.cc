#include "http/http_server.h"

#include <httplib.h>

#include <gtest/gtest.h>

namespace sluice::http {
namespace {

TEST(HttpServerTest, ServesMetricsAndHealth) {
  metrics::MetricsRegistry registry(1);
  metrics::Counter& counter =
      registry.AddCounter("sluice_requests_total", "Requests.", {"api"}).WithLabels({"Produce"});
  counter.Increment(5);
  HttpServer server("127.0.0.1", 0, registry);
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  ASSERT_NE(*port, 0);

  httplib::Client client("127.0.0.1", *port);
  client.set_connection_timeout(5);
  auto res = client.Get("/metrics");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_EQ(res->body,
            "# HELP sluice_requests_total Requests.\n"
            "# TYPE sluice_requests_total counter\n"
            "sluice_requests_total{api=\"Produce\"} 5\n");

  counter.Increment();  // Each scrape renders afresh.
  res = client.Get("/metrics");
  ASSERT_TRUE(res);
  EXPECT_NE(res->body.find("sluice_requests_total{api=\"Produce\"} 6\n"), std::string::npos);

  res = client.Get("/healthz");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->body, "ok");

  res = client.Get("/nope");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  server.Stop();
}

TEST(HttpServerTest, ExtraRoutes) {
  metrics::MetricsRegistry registry(1);
  HttpServer server("127.0.0.1", 0, registry);
  server.AddGet("/console/topics.json", [](const HttpRequest& req) {
    HttpResponse res;
    res.content_type = "application/json";
    auto it = req.params.find("name");
    res.body = "{\"name\":\"" + (it == req.params.end() ? std::string() : it->second) + "\"}";
    return res;
  });
  server.AddGet("/teapot", [](const HttpRequest&) { return HttpResponse{418, "text/plain", "no"}; });
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok());
  httplib::Client client("127.0.0.1", *port);
  auto res = client.Get("/console/topics.json?name=a%20b");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200);
  EXPECT_EQ(res->get_header_value("Content-Type"), "application/json");
  EXPECT_EQ(res->body, "{\"name\":\"a b\"}");
  res = client.Get("/consolextopics.json");  // The '.' is not a regex wildcard.
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 404);
  res = client.Get("/teapot");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 418);
}

TEST(HttpServerTest, StopRefusesNewConnectionsAndIsIdempotent) {
  metrics::MetricsRegistry registry(1);
  HttpServer server("127.0.0.1", 0, registry);
  Result<uint16_t> port = server.Start();
  ASSERT_TRUE(port.ok());
  server.Stop();
  server.Stop();
  httplib::Client client("127.0.0.1", *port);
  client.set_connection_timeout(1);
  EXPECT_FALSE(client.Get("/healthz"));
  EXPECT_FALSE(server.Start().ok());  // No restart.
}

// A stop issued as soon as Start returns is not lost (httplib ignores a
// stop before its accept loop runs): the destructor returns, and the port
// is free again at once, so the listening socket is really closed.
TEST(HttpServerTest, StopRightAfterStartClosesTheListener) {
  metrics::MetricsRegistry registry(1);
  for (int i = 0; i < 20; ++i) {
    uint16_t port = 0;
    {
      HttpServer server("127.0.0.1", 0, registry);
      Result<uint16_t> started = server.Start();
      ASSERT_TRUE(started.ok()) << started.status().ToString();
      port = *started;
    }  // The destructor stops.
    HttpServer again("127.0.0.1", port, registry);
    Result<uint16_t> rebound = again.Start();
    ASSERT_TRUE(rebound.ok()) << "port " << port << " still taken: "
                              << rebound.status().ToString();
    EXPECT_EQ(*rebound, port);
  }
}

TEST(HttpServerTest, PortInUseIsAnError) {
  metrics::MetricsRegistry registry(1);
  HttpServer first("127.0.0.1", 0, registry);
  Result<uint16_t> port = first.Start();
  ASSERT_TRUE(port.ok());
  HttpServer second("127.0.0.1", *port, registry);
  Result<uint16_t> again = second.Start();
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(again.status().IsIOError()) << again.status().ToString();
}

TEST(HttpServerTest, StopBeforeStartIsANoOp) {
  metrics::MetricsRegistry registry(1);
  HttpServer server("127.0.0.1", 0, registry);
  server.Stop();
  Result<uint16_t> port = server.Start();  // Nothing was stopped: it starts and serves.
  ASSERT_TRUE(port.ok()) << port.status().ToString();
  httplib::Client client("127.0.0.1", *port);
  client.set_connection_timeout(5);
  auto res = client.Get("/healthz");
  ASSERT_TRUE(res) << httplib::to_string(res.error());
  EXPECT_EQ(res->status, 200);
}

}  // namespace
}  // namespace sluice::http
