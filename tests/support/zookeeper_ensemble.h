// ZooKeeperEnsemble: real ZooKeeper servers (Debian's `zookeeper` package) for
// integration tests, each with its own data directory and loopback ports.
//
//   ZooKeeperEnsemble zk(3);
//   ASSERT_TRUE(zk.Start().ok());
//   ... connect to zk.connect_string() ...
//   zk.Kill(1);  zk.Restart(1);
//
// One server runs standalone; more form a quorum (Start waits until every
// server reports itself leader or follower). Servers run as child processes
// that die with the test process (PR_SET_PDEATHSIG), never as the system
// service. tickTime is 200 ms, so sessions may be 0.4 to 60 s long. Clients
// connect on 127.0.0.1 unless `client_host` names another local IPv4
// address (a test that runs a broker in a network namespace serves
// ZooKeeper on the root end of its veth); the servers talk to each other on
// loopback either way. Not thread-safe.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "base/status.h"
#include "support/temp_dir.h"

namespace sluice::testing {

class ZooKeeperEnsemble {
 public:
  explicit ZooKeeperEnsemble(int servers = 1, std::string client_host = "127.0.0.1");
  ~ZooKeeperEnsemble();  // SIGKILLs every server still running.
  ZooKeeperEnsemble(const ZooKeeperEnsemble&) = delete;
  ZooKeeperEnsemble& operator=(const ZooKeeperEnsemble&) = delete;

  // Starts every server and waits until the ensemble serves.
  Status Start(std::chrono::milliseconds timeout = std::chrono::seconds(60));

  // One server: SIGTERM and wait, SIGKILL, or start it again (same data).
  Status Stop(int server);
  void Kill(int server);
  Status Restart(int server, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  bool running(int server) const { return servers_[static_cast<size_t>(server)].pid > 0; }

  // "host:p1,host:p2,..." (every server, running or not).
  std::string connect_string() const;
  uint16_t client_port(int server) const {
    return servers_[static_cast<size_t>(server)].client_port;
  }
  int size() const { return static_cast<int>(servers_.size()); }
  // A server's answer to a four-letter command ("ruok", "srvr"), or "" if
  // it does not answer.
  std::string Ask(int server, const std::string& command) const;
  // The running server that answers "srvr" as the quorum's leader; -1 if
  // none does (a single server, no quorum, or an election under way).
  int Leader() const;
  // The server's output so far (its log goes to a file in its directory).
  std::string output(int server) const;

  // Makes the servers expire a client's session (`session_id`, `password`),
  // as when the client is cut off for its whole session timeout: a second
  // handle on the session closes it. The owner may win the session back
  // before that close lands, so this repeats until `expired` reports that
  // the owner heard of the expiry (each try waits for it a few seconds).
  Status ExpireSession(int64_t session_id, const std::string& password,
                       const std::function<bool()>& expired);

 private:
  struct Server {
    std::filesystem::path dir;
    uint16_t client_port = 0;
    uint16_t peer_port = 0;
    uint16_t election_port = 0;
    pid_t pid = -1;
  };
  Status WriteConfig(int server) const;
  Status Spawn(int server);
  // True once `server` answers "srvr" with a mode (standalone, leader or follower).
  bool Serving(int server) const;

  TempDir root_;
  std::string client_host_;
  std::vector<Server> servers_;
};

}  // namespace sluice::testing
