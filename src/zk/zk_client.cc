#include "zk/zk_client.h"

#include <zookeeper/zookeeper.h>

#include <algorithm>
#include <chrono>
#include <mutex>

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace sluice::zk {
namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

spdlog::logger& Log() {
  static std::shared_ptr<spdlog::logger> logger = [] {
    if (auto existing = spdlog::get("zookeeper")) return existing;
    auto created = std::make_shared<spdlog::logger>(
        "zookeeper", std::make_shared<spdlog::sinks::stderr_sink_mt>());
    created->set_level(spdlog::default_logger()->level());
    spdlog::register_logger(created);
    return created;
  }();
  return *logger;
}

// The C client's own log lines (warnings and errors only: it is chatty).
void ForwardClientLog(const char* message) { Log().warn("{}", message); }

int CreateFlags(CreateMode mode) {
  switch (mode) {
    case CreateMode::kPersistent: return 0;
    case CreateMode::kEphemeral: return ZOO_EPHEMERAL;
    case CreateMode::kPersistentSequential: return ZOO_SEQUENCE;
    case CreateMode::kEphemeralSequential: return ZOO_EPHEMERAL | ZOO_SEQUENCE;
  }
  return 0;
}

bool IsSequential(CreateMode mode) {
  return mode == CreateMode::kPersistentSequential || mode == CreateMode::kEphemeralSequential;
}

bool IsLoss(int rc) { return rc == ZCONNECTIONLOSS || rc == ZOPERATIONTIMEOUT; }

ZkStat ToStat(const struct Stat& s) {
  ZkStat out;
  out.czxid = s.czxid;
  out.mzxid = s.mzxid;
  out.ctime_ms = s.ctime;
  out.version = s.version;
  out.cversion = s.cversion;
  out.ephemeral_owner = s.ephemeralOwner;
  out.num_children = s.numChildren;
  out.pzxid = s.pzxid;
  return out;
}

int BufferLength(std::string_view data) { return static_cast<int>(data.size()); }

// Reads a node's data into `out`, growing the buffer if the node is larger
// than the first guess (ZooKeeper caps nodes at about 1 MiB).
int ReadNode(zhandle_t* zh, const std::string& path, watcher_fn watcher, void* ctx,
             ZkNode* out) {
  std::string buffer(64 * 1024, '\0');
  while (true) {
    int len = static_cast<int>(buffer.size());
    struct Stat stat {};
    const int rc = zoo_wget(zh, path.c_str(), watcher, ctx, buffer.data(), &len, &stat);
    if (rc != ZOK) return rc;
    if (stat.dataLength > static_cast<int32_t>(buffer.size())) {
      buffer.resize(static_cast<size_t>(stat.dataLength));
      continue;  // Changed between the calls, or simply larger: read again.
    }
    out->data.assign(buffer.data(), len < 0 ? 0 : static_cast<size_t>(len));
    out->stat = ToStat(stat);
    return ZOK;
  }
}

}  // namespace

const char* SessionStateName(SessionState state) {
  switch (state) {
    case SessionState::kConnected: return "connected";
    case SessionState::kDisconnected: return "disconnected";
    case SessionState::kExpired: return "expired";
    case SessionState::kAuthFailed: return "auth-failed";
  }
  return "?";
}

const char* WatchEventName(WatchEvent event) {
  switch (event) {
    case WatchEvent::kCreated: return "created";
    case WatchEvent::kDeleted: return "deleted";
    case WatchEvent::kDataChanged: return "data-changed";
    case WatchEvent::kChildrenChanged: return "children-changed";
    case WatchEvent::kSessionEnded: return "session-ended";
  }
  return "?";
}

ZkOp ZkOp::Create(std::string path, std::string data, CreateMode mode) {
  return ZkOp{Kind::kCreate, std::move(path), std::move(data), -1, mode};
}
ZkOp ZkOp::Set(std::string path, std::string data, int32_t version) {
  return ZkOp{Kind::kSet, std::move(path), std::move(data), version, CreateMode::kPersistent};
}
ZkOp ZkOp::Delete(std::string path, int32_t version) {
  return ZkOp{Kind::kDelete, std::move(path), {}, version, CreateMode::kPersistent};
}
ZkOp ZkOp::Check(std::string path, int32_t version) {
  return ZkOp{Kind::kCheck, std::move(path), {}, version, CreateMode::kPersistent};
}

ZkResult<std::unique_ptr<ZkClient>> ZkClient::Connect(ZkOptions options) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { zoo_set_debug_level(ZOO_LOG_LEVEL_WARN); });
  const size_t slash = options.connect.find('/');
  if (options.create_chroot && slash != std::string::npos && slash + 1 < options.connect.size()) {
    // The C client resolves every path below the chroot, so the chroot
    // itself is made through a session without one.
    ZkOptions root = options;
    root.connect = options.connect.substr(0, slash);
    root.create_chroot = false;
    root.on_session = nullptr;
    auto client = Connect(std::move(root));
    if (!client.ok()) return client.error();
    ZkError made = (*client)->CreateRecursive(options.connect.substr(slash));
    if (!made.ok()) return made;
  }
  std::unique_ptr<ZkClient> client(new ZkClient(std::move(options)));
  ZkError opened = client->Open(client->options_.connect);
  if (!opened.ok()) return opened;
  return client;
}

ZkError ZkClient::Open(const std::string& connect) {
  zh_ = zookeeper_init2(connect.c_str(), &ZkClient::OnSessionEvent, options_.session_timeout_ms,
                        nullptr, this, 0, &ForwardClientLog);
  if (zh_ == nullptr) {
    return ZkError(ZkCode::kOther, "zookeeper: cannot start a session with " + connect);
  }
  if (!WaitConnected(SteadyMs() + options_.connection_timeout_ms)) {
    return ZkError(ZkCode::kConnectionLoss,
                   fmt::format("zookeeper: no session with {} within {} ms", connect,
                               options_.connection_timeout_ms));
  }
  return ZkError();
}

ZkClient::~ZkClient() {
  if (zh_ != nullptr) zookeeper_close(zh_);  // Joins the client's threads.
  MutexLock lock(&mu_);
  watches_.clear();  // Dropped without a call: their owner is going away.
}

int64_t ZkClient::session_id() const {
  const clientid_t* id = zoo_client_id(zh_);
  return id == nullptr ? 0 : id->client_id;
}

std::string ZkClient::session_password() const {
  const clientid_t* id = zoo_client_id(zh_);
  return id == nullptr ? std::string() : std::string(id->passwd, sizeof(id->passwd));
}

SessionState ZkClient::state() const {
  MutexLock lock(&mu_);
  return state_;
}

void ZkClient::OnSessionEvent(zhandle_t* zh, int type, int state, const char* /*path*/,
                              void* ctx) {
  if (type != ZOO_SESSION_EVENT) return;
  auto* self = static_cast<ZkClient*>(ctx);
  // `zh`, not zh_: this may run before zookeeper_init2 has returned it.
  const clientid_t* id = zoo_client_id(zh);
  const int64_t session = id == nullptr ? 0 : id->client_id;
  if (state == ZOO_CONNECTED_STATE) {
    self->SetState(SessionState::kConnected, session);
  } else if (state == ZOO_EXPIRED_SESSION_STATE) {
    self->SetState(SessionState::kExpired, session);
  } else if (state == ZOO_AUTH_FAILED_STATE) {
    self->SetState(SessionState::kAuthFailed, session);
  } else if (state == ZOO_CONNECTING_STATE || state == ZOO_ASSOCIATING_STATE) {
    self->SetState(SessionState::kDisconnected, session);
  }
}

void ZkClient::SetState(SessionState state, int64_t session) {
  {
    MutexLock lock(&mu_);
    if (state_ == state) return;
    // An expired session stays expired, whatever the client does next.
    if (state_ == SessionState::kExpired) return;
    state_ = state;
  }
  state_changed_.SignalAll();
  Log().info("session {:#x}: {}", session, SessionStateName(state));
  if (options_.on_session) options_.on_session(state);
}

void* ZkClient::AddWatch(Watcher fn) {
  if (!fn) return nullptr;
  MutexLock lock(&mu_);
  const uint64_t id = next_watch_id_++;
  watches_.emplace(id, WatchEntry{std::move(fn)});
  return reinterpret_cast<void*>(static_cast<uintptr_t>(id));
}

void ZkClient::DropWatch(void* ctx) {
  if (ctx == nullptr) return;
  MutexLock lock(&mu_);
  watches_.erase(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ctx)));
}

void ZkClient::OnWatchEvent(zhandle_t* zh, int type, int state, const char* path, void* ctx) {
  WatchEvent event;
  if (type == ZOO_SESSION_EVENT) {
    // Every watch hears each session change; only expiry ends it (after a
    // reconnection the server still holds it).
    if (state != ZOO_EXPIRED_SESSION_STATE) return;
    event = WatchEvent::kSessionEnded;
  } else if (type == ZOO_CREATED_EVENT) {
    event = WatchEvent::kCreated;
  } else if (type == ZOO_DELETED_EVENT) {
    event = WatchEvent::kDeleted;
  } else if (type == ZOO_CHANGED_EVENT) {
    event = WatchEvent::kDataChanged;
  } else if (type == ZOO_CHILD_EVENT) {
    event = WatchEvent::kChildrenChanged;
  } else {
    event = WatchEvent::kSessionEnded;  // ZOO_NOTWATCHING_EVENT: removed by the server.
  }
  auto* self = static_cast<ZkClient*>(const_cast<void*>(zoo_get_context(zh)));
  Watcher fn;
  {
    MutexLock lock(&self->mu_);
    auto it = self->watches_.find(static_cast<uint64_t>(reinterpret_cast<uintptr_t>(ctx)));
    if (it == self->watches_.end()) return;
    fn = std::move(it->second.fn);
    self->watches_.erase(it);
  }
  fn(event, path == nullptr ? std::string() : std::string(path));
}

bool ZkClient::Expired() const {
  MutexLock lock(&mu_);
  return state_ == SessionState::kExpired;
}

bool ZkClient::WaitConnected(int64_t deadline_ms) {
  MutexLock lock(&mu_);
  while (state_ != SessionState::kConnected) {
    if (state_ == SessionState::kExpired || state_ == SessionState::kAuthFailed) return false;
    const int64_t left = deadline_ms - SteadyMs();
    if (left <= 0) return false;
    state_changed_.WaitFor(&mu_, std::chrono::milliseconds(left));
  }
  return true;
}

int ZkClient::RetryOnLoss(const std::function<int()>& op) {
  const int64_t deadline = SteadyMs() + options_.session_timeout_ms;
  while (true) {
    const int rc = op();
    if (!IsLoss(rc)) return rc;
    {
      // The loss may reach us before the client's state change does: give
      // that a moment, so the retry waits for the reconnection instead of
      // spinning on a connection that is already gone.
      MutexLock lock(&mu_);
      if (state_ == SessionState::kConnected) {
        state_changed_.WaitFor(&mu_, std::chrono::milliseconds(100));
      }
    }
    if (!WaitConnected(deadline)) return rc;
  }
}

ZkResult<std::string> ZkClient::Create(const std::string& path, std::string_view data,
                                       CreateMode mode) {
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "create", path);
  std::string created(path.size() + 16, '\0');
  int created_len = 0;
  auto once = [&] {
    created_len = static_cast<int>(created.size());
    return zoo_create(zh_, path.c_str(), data.data(), BufferLength(data), &ZOO_OPEN_ACL_UNSAFE,
                      CreateFlags(mode), created.data(), created_len);
  };
  int rc = once();
  if (IsLoss(rc) && !IsSequential(mode)) {
    // Did the lost create happen? Retry; a node holding our data (and, if
    // ephemeral, owned by our session) says it did.
    bool retried = false;
    rc = RetryOnLoss([&] {
      const int r = retried ? once() : rc;
      retried = true;
      return r;
    });
    if (rc == ZNODEEXISTS) {
      ZkNode node;
      const int read = RetryOnLoss([&] { return ReadNode(zh_, path, nullptr, nullptr, &node); });
      const bool ours = read == ZOK && node.data == data &&
                        (mode != CreateMode::kEphemeral ||
                         node.stat.ephemeral_owner == session_id());
      if (ours) return path;
    }
  }
  if (rc != ZOK) return ZkError::FromRc(rc, "create", path);
  return std::string(created.c_str());
}

ZkError ZkClient::CreateRecursive(const std::string& path, std::string_view data) {
  if (path.empty() || path == "/") return ZkError();
  size_t at = 1;
  while (true) {
    const size_t next = path.find('/', at);
    const bool leaf = next == std::string::npos;
    const std::string prefix = leaf ? path : path.substr(0, next);
    auto made = Create(prefix, leaf ? data : std::string_view(), CreateMode::kPersistent);
    if (!made.ok() && made.code() != ZkCode::kNodeExists) return made.error();
    if (leaf) return ZkError();
    at = next + 1;
  }
}

ZkResult<ZkNode> ZkClient::Get(const std::string& path, Watcher watch) {
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "get", path);
  void* ctx = AddWatch(std::move(watch));
  ZkNode node;
  const int rc = RetryOnLoss([&] {
    return ReadNode(zh_, path, ctx ? &ZkClient::OnWatchEvent : nullptr, ctx, &node);
  });
  if (rc != ZOK) {
    DropWatch(ctx);  // A failed read leaves no watch behind.
    return ZkError::FromRc(rc, "get", path);
  }
  return node;
}

ZkResult<std::optional<ZkStat>> ZkClient::Exists(const std::string& path, Watcher watch) {
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "exists", path);
  void* ctx = AddWatch(std::move(watch));
  struct Stat stat {};
  const int rc = RetryOnLoss([&] {
    return zoo_wexists(zh_, path.c_str(), ctx ? &ZkClient::OnWatchEvent : nullptr, ctx, &stat);
  });
  if (rc == ZNONODE) return std::optional<ZkStat>();  // The watch waits for a create.
  if (rc != ZOK) {
    DropWatch(ctx);
    return ZkError::FromRc(rc, "exists", path);
  }
  return std::optional<ZkStat>(ToStat(stat));
}

ZkResult<std::vector<std::string>> ZkClient::GetChildren(const std::string& path, Watcher watch) {
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "get children", path);
  void* ctx = AddWatch(std::move(watch));
  std::vector<std::string> names;
  const int rc = RetryOnLoss([&] {
    struct String_vector children {};
    const int r = zoo_wget_children(zh_, path.c_str(), ctx ? &ZkClient::OnWatchEvent : nullptr,
                                    ctx, &children);
    if (r == ZOK) {
      names.assign(children.data, children.data + children.count);
      deallocate_String_vector(&children);
    }
    return r;
  });
  if (rc != ZOK) {
    DropWatch(ctx);
    return ZkError::FromRc(rc, "get children", path);
  }
  std::sort(names.begin(), names.end());
  return names;
}

ZkResult<ZkStat> ZkClient::Set(const std::string& path, std::string_view data, int32_t version) {
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "set", path);
  struct Stat stat {};
  bool retried = false;
  int rc = RetryOnLoss([&] {
    const int r = zoo_set2(zh_, path.c_str(), data.data(), BufferLength(data), version, &stat);
    if (IsLoss(r)) retried = true;
    return r;
  });
  if (rc == ZBADVERSION && retried && version >= 0) {
    // The first try may have landed before its answer was lost: then the
    // node holds our data at the next version.
    ZkNode node;
    if (RetryOnLoss([&] { return ReadNode(zh_, path, nullptr, nullptr, &node); }) == ZOK &&
        node.data == data && node.stat.version == version + 1) {
      return node.stat;
    }
  }
  if (rc != ZOK) return ZkError::FromRc(rc, "set", path);
  return ToStat(stat);
}

ZkError ZkClient::Delete(const std::string& path, int32_t version) {
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "delete", path);
  bool retried = false;
  const int rc = RetryOnLoss([&] {
    const int r = zoo_delete(zh_, path.c_str(), version);
    if (IsLoss(r)) retried = true;
    return r;
  });
  if (rc == ZNONODE && retried) return ZkError();  // The lost try deleted it.
  return ZkError::FromRc(rc, "delete", path);
}

ZkError ZkClient::DeleteRecursive(const std::string& path) {
  auto children = GetChildren(path);
  if (!children.ok()) {
    return children.code() == ZkCode::kNoNode ? ZkError() : children.error();
  }
  for (const std::string& child : *children) {
    ZkError e = DeleteRecursive(path == "/" ? "/" + child : path + "/" + child);
    if (!e.ok()) return e;
  }
  ZkError e = Delete(path);
  return e.code() == ZkCode::kNoNode ? ZkError() : e;
}

ZkError ZkClient::Multi(const std::vector<ZkOp>& ops) {
  if (ops.empty()) return ZkError();
  if (Expired()) return ZkError::FromRc(ZSESSIONEXPIRED, "multi", ops.front().path);
  std::vector<zoo_op_t> c_ops(ops.size());
  std::vector<zoo_op_result_t> results(ops.size());
  std::vector<struct Stat> stats(ops.size());
  for (size_t i = 0; i < ops.size(); ++i) {
    const ZkOp& op = ops[i];
    switch (op.kind) {
      case ZkOp::Kind::kCreate:
        // No buffer for the created path (nothing here reads it): the C
        // client keeps a create's buffer in the multi's completion entry,
        // and its clean-up after a lost connection or an expired session
        // can free what that entry holds, which must then not be ours.
        zoo_create_op_init(&c_ops[i], op.path.c_str(), op.data.data(), BufferLength(op.data),
                           &ZOO_OPEN_ACL_UNSAFE, CreateFlags(op.mode), nullptr, 0);
        break;
      case ZkOp::Kind::kSet:
        zoo_set_op_init(&c_ops[i], op.path.c_str(), op.data.data(), BufferLength(op.data),
                        op.version, &stats[i]);
        break;
      case ZkOp::Kind::kDelete:
        zoo_delete_op_init(&c_ops[i], op.path.c_str(), op.version);
        break;
      case ZkOp::Kind::kCheck:
        zoo_check_op_init(&c_ops[i], op.path.c_str(), op.version);
        break;
    }
  }
  // Not retried: after a lost answer the caller re-reads what it guards
  // (its checks fail if the transaction did land).
  const int rc = zoo_multi(zh_, static_cast<int>(ops.size()), c_ops.data(), results.data());
  if (rc == ZOK) return ZkError();
  for (size_t i = 0; i < ops.size(); ++i) {
    if (results[i].err != ZOK && results[i].err != ZRUNTIMEINCONSISTENCY) {
      return ZkError::FromRc(results[i].err, "multi", ops[i].path);
    }
  }
  return ZkError::FromRc(rc, "multi", ops.front().path);
}

}  // namespace sluice::zk
