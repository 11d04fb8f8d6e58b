// ZkClient: one ZooKeeper session, on the C client (libzookeeper-mt).
//
// Every call is synchronous and thread-safe; it blocks the calling thread
// until ZooKeeper answers, so callers are the controller's and the broker's
// own coordination threads, never a network shard.
//
// Sessions. Connect() returns once the session is established (or fails at
// `connection_timeout_ms`). A lost connection is not a lost session: the C
// client reconnects to any server of the ensemble and the session, with its
// ephemeral nodes and watches, survives if it comes back within the session
// timeout. on_session hears each change (kDisconnected, kConnected again, or
// kExpired, after which this object is useless and the owner makes a new
// one, re-creating its ephemeral nodes, as Kafka's brokers do).
//
// Retries. Reads that hit a connection loss wait for the connection and run
// again. Writes do too, and resolve the ambiguity a loss leaves (did the write
// happen?) by reading back: a create whose node exists with our data (and, if
// ephemeral, our session) succeeded; a versioned set whose node holds our data
// at the next version succeeded; a delete that finds no node succeeded. All of
// it is bounded by the session timeout; after that the call reports
// kConnectionLoss.
//
// Watches are one-shot, as in ZooKeeper: a Watcher passed to Get, Exists or
// GetChildren runs at most once, on the C client's event thread, when that
// node (or its children) changes, or with kSessionEnded when the session
// expires or the client closes. It must not call back into this ZkClient
// (the call would wait for the very thread it runs on): hand the event to a
// thread of your own.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/mutex.h"
#include "zk/zk_error.h"

typedef struct _zhandle zhandle_t;  // NOLINT: the C client's handle

namespace sluice::zk {

enum class SessionState { kConnected, kDisconnected, kExpired, kAuthFailed };
const char* SessionStateName(SessionState state);

struct ZkOptions {
  // zookeeper.connect: "host:port[,host:port...][/chroot]".
  std::string connect;
  int32_t session_timeout_ms = 18000;     // zookeeper.session.timeout.ms
  int32_t connection_timeout_ms = 18000;  // zookeeper.connection.timeout.ms
  // Create the chroot path if it is missing (as Kafka does at start-up).
  bool create_chroot = true;
  // Session changes; runs on the client's event thread (see the header).
  std::function<void(SessionState)> on_session;
};

struct ZkStat {
  int64_t czxid = 0;
  int64_t mzxid = 0;
  int64_t ctime_ms = 0;          // creation time, ms since the epoch (the server's clock)
  int32_t version = 0;           // data version: what versioned writes compare
  int32_t cversion = 0;          // children version
  int64_t ephemeral_owner = 0;   // session id, 0 for a persistent node
  int32_t num_children = 0;
  int64_t pzxid = 0;             // the transaction that last added or removed a child
};

struct ZkNode {
  std::string data;
  ZkStat stat;
};

enum class CreateMode { kPersistent, kEphemeral, kPersistentSequential, kEphemeralSequential };

enum class WatchEvent { kCreated, kDeleted, kDataChanged, kChildrenChanged, kSessionEnded };
const char* WatchEventName(WatchEvent event);
using Watcher = std::function<void(WatchEvent event, const std::string& path)>;

// One operation of an atomic Multi.
struct ZkOp {
  enum class Kind { kCreate, kSet, kDelete, kCheck } kind;
  std::string path;
  std::string data;             // kCreate, kSet
  int32_t version = -1;         // kSet, kDelete, kCheck: expected version, -1 any
  CreateMode mode = CreateMode::kPersistent;  // kCreate

  static ZkOp Create(std::string path, std::string data, CreateMode mode = CreateMode::kPersistent);
  static ZkOp Set(std::string path, std::string data, int32_t version);
  static ZkOp Delete(std::string path, int32_t version);
  static ZkOp Check(std::string path, int32_t version);
};

class ZkClient {
 public:
  static ZkResult<std::unique_ptr<ZkClient>> Connect(ZkOptions options);
  // Closes the session: its ephemeral nodes go at once; pending watchers get
  // kSessionEnded.
  ~ZkClient();
  ZkClient(const ZkClient&) = delete;
  ZkClient& operator=(const ZkClient&) = delete;

  int64_t session_id() const;
  // With session_id(), what a second handle needs to take this session over
  // (which is how tests make ZooKeeper expire it).
  std::string session_password() const;
  SessionState state() const EXCLUDES(mu_);

  // The created path (with the sequence number for sequential modes).
  ZkResult<std::string> Create(const std::string& path, std::string_view data, CreateMode mode);
  // Creates `path` and any missing parent as persistent nodes (the leaf with
  // `data`); a leaf that exists already is kept as it is.
  ZkError CreateRecursive(const std::string& path, std::string_view data = {});
  ZkResult<ZkNode> Get(const std::string& path, Watcher watch = nullptr);
  // nullopt: no such node (a watch then fires on its creation).
  ZkResult<std::optional<ZkStat>> Exists(const std::string& path, Watcher watch = nullptr);
  // Children's names (not paths), sorted.
  ZkResult<std::vector<std::string>> GetChildren(const std::string& path,
                                                 Watcher watch = nullptr);
  // A conditional write when `version` >= 0: kBadVersion if the node moved on.
  ZkResult<ZkStat> Set(const std::string& path, std::string_view data, int32_t version);
  ZkError Delete(const std::string& path, int32_t version = -1);
  // Deletes `path` and everything below it; no node is not an error.
  ZkError DeleteRecursive(const std::string& path);
  // All or nothing. On failure the error names the first operation that failed.
  ZkError Multi(const std::vector<ZkOp>& ops);

 private:
  struct WatchEntry {
    Watcher fn;
  };

  explicit ZkClient(ZkOptions options) : options_(std::move(options)) {}
  ZkError Open(const std::string& connect) EXCLUDES(mu_);
  // The C client's callbacks (its event thread).
  static void OnSessionEvent(zhandle_t* zh, int type, int state, const char* path, void* ctx);
  static void OnWatchEvent(zhandle_t* zh, int type, int state, const char* path, void* ctx);
  void SetState(SessionState state, int64_t session) EXCLUDES(mu_);
  // A watch registration: the context handed to the C client is its id.
  void* AddWatch(Watcher fn) EXCLUDES(mu_);
  void DropWatch(void* ctx) EXCLUDES(mu_);
  // Runs `op` (returning a ZOO_ERRORS value) until it answers something other
  // than a connection loss, waiting for the connection between tries, within
  // the session timeout.
  int RetryOnLoss(const std::function<int()>& op) EXCLUDES(mu_);
  bool WaitConnected(int64_t deadline_ms) EXCLUDES(mu_);
  // The session has expired (it never comes back): every operation fails
  // at once with ZSESSIONEXPIRED instead of handing the C client a request
  // for a handle that can no longer serve it.
  bool Expired() const EXCLUDES(mu_);

  const ZkOptions options_;
  zhandle_t* zh_ = nullptr;

  mutable Mutex mu_;
  CondVar state_changed_;
  SessionState state_ GUARDED_BY(mu_) = SessionState::kDisconnected;
  uint64_t next_watch_id_ GUARDED_BY(mu_) = 1;
  std::map<uint64_t, WatchEntry> watches_ GUARDED_BY(mu_);
};

}  // namespace sluice::zk
