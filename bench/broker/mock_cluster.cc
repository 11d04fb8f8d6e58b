// mock_cluster: librdkafka's in-process mock Kafka cluster (rdkafka_mock.h)
// as a standalone process, so `sluice perf` can be pointed at it exactly as at
// sluice-broker. The mock keeps data in memory only and does no I/O, so its
// figures are the ceiling the client library allows on this machine.
//
//   mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...
//
// Prints the bootstrap servers on the first line of stdout once ready, then
// runs until SIGINT or SIGTERM. Topics are created here because the mock
// (librdkafka 2.0.2) has no CreateTopics; unknown topics are auto-created
// with its default partition count.
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>

#include <signal.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

int main(int argc, char** argv) {
  int brokers = 1;
  std::vector<std::pair<std::string, int>> topics;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "--brokers" && i + 1 < argc) {
      brokers = std::atoi(argv[++i]);
    } else if (arg == "--topic" && i + 1 < argc) {
      std::string spec = argv[++i];
      size_t colon = spec.rfind(':');
      if (colon == std::string::npos || colon == 0) {
        std::fprintf(stderr, "mock_cluster: --topic wants NAME:PARTITIONS, got %s\n", spec.c_str());
        return 2;
      }
      topics.emplace_back(spec.substr(0, colon), std::atoi(spec.c_str() + colon + 1));
    } else {
      std::fprintf(stderr, "usage: mock_cluster [--brokers N] [--topic NAME:PARTITIONS]...\n");
      return 2;
    }
  }

  // Block the stop signals before librdkafka starts its threads, so only
  // sigwait below sees them.
  sigset_t stop;
  sigemptyset(&stop);
  sigaddset(&stop, SIGINT);
  sigaddset(&stop, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop, nullptr);

  // The mock cluster lives inside an rd_kafka_t; this one never connects.
  char errstr[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  // Only errors: "no bootstrap.servers" is expected for this handle.
  rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
  if (rk == nullptr) {
    std::fprintf(stderr, "mock_cluster: %s\n", errstr);
    return 1;
  }
  rd_kafka_mock_cluster_t* mock = rd_kafka_mock_cluster_new(rk, brokers);
  if (mock == nullptr) {
    std::fprintf(stderr, "mock_cluster: rd_kafka_mock_cluster_new failed\n");
    return 1;
  }
  for (const auto& [name, partitions] : topics) {
    rd_kafka_resp_err_t err = rd_kafka_mock_topic_create(mock, name.c_str(), partitions, 1);
    if (err != RD_KAFKA_RESP_ERR_NO_ERROR) {
      std::fprintf(stderr, "mock_cluster: topic %s: %s\n", name.c_str(), rd_kafka_err2str(err));
      return 1;
    }
  }
  std::printf("%s\n", rd_kafka_mock_cluster_bootstraps(mock));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop, &sig);
  // Nothing is kept: exit at once instead of spending a second joining
  // librdkafka's threads, once per benchmark run.
  std::_Exit(0);
}
