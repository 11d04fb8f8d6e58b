#include "support/cluster_fixture.h"

#include <fstream>
#include <iterator>
#include <utility>

#include <fmt/format.h>

#include "support/cluster_znodes.h"
#include "support/wait_until.h"

namespace sluice::testing {

BrokerCluster::BrokerCluster(BrokerClusterOptions options)
    : options_(std::move(options)), zk_(options_.zookeeper_servers, options_.host) {
  for (int i = 0; i < options_.brokers; ++i) {
    dirs_.push_back(std::make_unique<TempDir>());
    setups_.emplace_back();
    brokers_.push_back(std::make_unique<BrokerProcess>());
  }
}

BrokerCluster::~BrokerCluster() {
  // Brokers first: killed after ZooKeeper they would only log lost sessions.
  for (auto& b : brokers_) b->Kill();
  zk_client_.reset();
}

void BrokerCluster::Configure(int32_t id, BrokerSetup setup) {
  setups_[static_cast<size_t>(id - 1)] = std::move(setup);
}

std::filesystem::path BrokerCluster::LogDir(int32_t id) const {
  const BrokerSetup& setup = setups_[static_cast<size_t>(id - 1)];
  return setup.log_dir.empty() ? dirs_[static_cast<size_t>(id - 1)]->path() / "data"
                               : setup.log_dir;
}

Status BrokerCluster::Start() {
  SLUICE_RETURN_IF_ERROR(zk_.Start());
  for (int32_t id = 1; id <= size(); ++id) SLUICE_RETURN_IF_ERROR(StartBroker(id));
  if (!WaitUntil([&] { return static_cast<int>(LiveIds().size()) == size() && Controller() > 0; })) {
    return Status::Aborted("the brokers never all registered under a controller");
  }
  return Status::Ok();
}

Status BrokerCluster::StartBroker(int32_t id) {
  const BrokerSetup& setup = setups_[static_cast<size_t>(id - 1)];
  const std::string host = setup.host.empty() ? options_.host : setup.host;
  BrokerProcessOptions o;
  o.default_listener = false;
  o.log_dir = LogDir(id);
  o.exec_prefix = setup.exec_prefix;
  // A restarted broker takes its old port again, as a real one would: a
  // client that knew it there (librdkafka's group coordinator connection
  // does not follow a broker to a new address) finds it again.
  const uint16_t port = broker(id).port();
  o.overrides = {fmt::format("listeners=PLAINTEXT://{}:{}", host, port),
                 fmt::format("broker.id={}", id),
                 "zookeeper.connect=" + zk_connect(),
                 fmt::format("zookeeper.session.timeout.ms={}", options_.session_timeout_ms),
                 fmt::format("replica.lag.time.max.ms={}", options_.replica_lag_time_max_ms),
                 fmt::format("replica.fetch.backoff.ms={}", options_.replica_fetch_backoff_ms),
                 // Kafka's default (Sluice's is 1): group state survives a broker.
                 "offsets.topic.replication.factor=3",
                 "sluice.metrics.listener="};
  o.overrides.insert(o.overrides.end(), options_.overrides.begin(), options_.overrides.end());
  return broker(id).Start(o);
}

Status BrokerCluster::StopBrokers() {
  std::string failures;
  for (int32_t id = 1; id <= size(); ++id) {
    if (!broker(id).running()) continue;
    auto code = broker(id).Stop(std::chrono::seconds(60));
    if (!code.ok()) {
      failures += fmt::format(" broker {}: {};", id, code.status().ToString());
    } else if (*code != 0) {
      failures += fmt::format(" broker {} exited {};", id, *code);
    }
  }
  if (!failures.empty()) return Status::Aborted("clean stop failed:" + failures);
  return Status::Ok();
}

bool BrokerCluster::Alive(int32_t id) {
  if (!broker(id).running()) return false;
  // Field 3 of /proc/<pid>/stat is the state; the command before it is in
  // parentheses and may hold spaces.
  std::ifstream in(fmt::format("/proc/{}/stat", broker(id).pid()));
  std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const size_t close = stat.rfind(')');
  return close != std::string::npos && close + 2 < stat.size() && stat[close + 2] != 'Z' &&
         stat[close + 2] != 'X';
}

std::string BrokerCluster::Bootstrap() const {
  std::vector<std::string> out;
  for (const auto& b : brokers_) {
    if (b->running()) out.push_back(fmt::format("{}:{}", b->host(), b->port()));
  }
  return fmt::format("{}", fmt::join(out, ","));
}

std::shared_ptr<zk::ZkClient> BrokerCluster::Zk() {
  std::lock_guard lock(zk_mu_);
  if (zk_client_ && zk_client_->state() == zk::SessionState::kExpired) zk_client_.reset();
  if (!zk_client_) {
    zk::ZkOptions o;
    o.connect = zk_connect();
    // Longer than any outage a test makes, so reads resume where they were.
    o.session_timeout_ms = 30000;
    o.connection_timeout_ms = 5000;
    auto c = zk::ZkClient::Connect(o);
    if (!c.ok()) return nullptr;
    zk_client_ = std::move(*c);
  }
  return zk_client_;
}

std::set<int32_t> BrokerCluster::LiveIds() {
  auto zk = Zk();
  return zk ? LiveBrokerIds(*zk) : std::set<int32_t>{};
}

int32_t BrokerCluster::Controller() {
  auto zk = Zk();
  return zk ? ControllerId(*zk) : -1;
}

std::optional<zk::PartitionState> BrokerCluster::State(const std::string& topic,
                                                       int32_t partition) {
  auto zk = Zk();
  return zk ? ReadPartitionState(*zk, topic, partition) : std::nullopt;
}

std::optional<std::pair<zk::PartitionState, int32_t>> BrokerCluster::VersionedState(
    const std::string& topic, int32_t partition) {
  auto zk = Zk();
  if (!zk) return std::nullopt;
  auto node = zk->Get(zk::PartitionStatePath(topic, partition));
  if (!node.ok()) return std::nullopt;
  auto s = zk::DecodePartitionState(node->data);
  if (!s.ok()) return std::nullopt;
  return std::pair(*s, node->stat.version);
}

bool BrokerCluster::FullyReplicated(const std::string& topic, int partitions) {
  for (int32_t p = 0; p < partitions; ++p) {
    auto s = State(topic, p);
    if (!s || s->leader < 0 || static_cast<int>(s->isr.size()) != size()) return false;
  }
  return true;
}

std::set<int32_t> BrokerCluster::LedBy(int32_t id, const std::string& topic, int partitions) {
  std::set<int32_t> out;
  for (int32_t p = 0; p < partitions; ++p) {
    auto s = State(topic, p);
    if (s && s->leader == id) out.insert(p);
  }
  return out;
}

std::string BrokerCluster::Outputs(size_t bytes) const {
  std::string out;
  for (size_t i = 0; i < brokers_.size(); ++i) {
    const std::string o = brokers_[i]->output();
    out += fmt::format("--- broker {} (last {} bytes) ---\n{}\n", i + 1, bytes,
                       o.size() > bytes ? o.substr(o.size() - bytes) : o);
  }
  return out;
}

}  // namespace sluice::testing
