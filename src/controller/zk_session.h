// ZkSession: a ZooKeeper session that outlives expiry.
//
// A ZkClient is one session; when ZooKeeper expires it (the broker was cut
// off for longer than zookeeper.session.timeout.ms) its ephemeral nodes are
// gone and it is useless. ZkSession then makes a new one, on a thread of its
// own (the expiry is heard on the old client's event thread, which must not
// close that client), retrying until it connects, and tells its owner, who
// re-creates its ephemeral nodes (broker registration, controller election)
// as Kafka's brokers do after a session re-establishment.
//
// on_expired runs on the C client's event thread and on_new_session on the
// session thread; both must only hand work to the owner's own thread.
#pragma once

#include <functional>
#include <memory>
#include <thread>

#include "base/mutex.h"
#include "zk/zk_client.h"

namespace sluice::controller {

struct ZkSessionOptions {
  zk::ZkOptions zk;  // on_session is ZkSession's own; leave it empty
  std::function<void()> on_expired;
  std::function<void()> on_new_session;
};

class ZkSession {
 public:
  // Connects the first session (within zk.connection_timeout_ms).
  static zk::ZkResult<std::unique_ptr<ZkSession>> Open(ZkSessionOptions options);
  ~ZkSession();  // Closes the current session.
  ZkSession(const ZkSession&) = delete;
  ZkSession& operator=(const ZkSession&) = delete;

  // The current session's client. A caller keeps it for one piece of work:
  // after an expiry its calls fail (it stays the current one, never null,
  // until the new session replaces it), and the next client() is a new session.
  std::shared_ptr<zk::ZkClient> client() const EXCLUDES(mu_);
  // Sessions made so far (1 after Open).
  int generation() const EXCLUDES(mu_);
  // Whether the session is connected to a ZooKeeper server now: false
  // while the client looks for another server, and from an expiry until the
  // next session connects (metrics).
  bool connected() const EXCLUDES(mu_);

 private:
  explicit ZkSession(ZkSessionOptions options) : options_(std::move(options)) {}
  zk::ZkResult<std::shared_ptr<zk::ZkClient>> Connect();
  void OnState(zk::SessionState state) EXCLUDES(mu_);
  void Run() EXCLUDES(mu_);  // the session thread

  ZkSessionOptions options_;
  mutable Mutex mu_;
  CondVar changed_;
  std::shared_ptr<zk::ZkClient> client_ GUARDED_BY(mu_);
  int generation_ GUARDED_BY(mu_) = 0;
  bool expired_ GUARDED_BY(mu_) = false;
  bool connected_ GUARDED_BY(mu_) = false;
  bool stopping_ GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace sluice::controller
