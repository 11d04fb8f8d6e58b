#include "storage/fault_injection_fs.h"

#include <algorithm>
#include <thread>

namespace sluice::storage::testing {

class FaultFile final : public File {
 public:
  FaultFile(std::shared_ptr<File> target, FaultInjectionFileSystem* fs)
      : target_(std::move(target)), fs_(fs) {}

  Result<size_t> Read(uint64_t offset, std::span<uint8_t> out) const override {
    return target_->Read(offset, out);
  }

  Status Write(uint64_t offset, std::span<const uint8_t> data) override {
    SLUICE_RETURN_IF_ERROR(fs_->Mutation());
    fs_->writes_++;
    auto& sh = *fs_->shared_;
    std::optional<Status> err;
    size_t partial = 0;
    {
      std::lock_guard lock(sh.mu);
      Track(sh);
      err = sh.write_error;
      partial = sh.partial_bytes;
      RememberOverwrite(sh, offset, data.size());
    }
    if (err) {
      if (partial > 0) (void)target_->Write(offset, data.first(std::min(partial, data.size())));
      return *err;
    }
    return target_->Write(offset, data);
  }

  Status Sync() override {
    SLUICE_RETURN_IF_ERROR(fs_->Mutation());
    auto& sh = *fs_->shared_;
    {
      std::lock_guard lock(sh.mu);
      if (sh.sync_error) return *sh.sync_error;
    }
    fs_->PassSyncGate();
    if (int64_t d = fs_->sync_delay_us_.load()) std::this_thread::sleep_for(std::chrono::microseconds(d));
    // Before the sync: later writes are not covered.
    Result<uint64_t> size = target_->Size();
    if (!size.ok()) return size.status();
    uint64_t sequence;
    {
      std::lock_guard lock(sh.mu);
      sequence = sh.next_sequence;
    }
    Status s = target_->Sync();
    if (s.ok()) {
      fs_->syncs_++;
      std::lock_guard lock(sh.mu);
      // Concurrent syncs may finish out of order; durability only grows.
      uint64_t& synced = sh.synced_size[target_->path().string()];
      synced = std::max(synced, *size);
      sh.KeepOverwritesBefore(target_->path().string(), sequence);
    }
    return s;
  }

  Status Truncate(uint64_t size) override {
    SLUICE_RETURN_IF_ERROR(fs_->Mutation());
    fs_->truncates_++;
    auto& sh = *fs_->shared_;
    {
      std::lock_guard lock(sh.mu);
      if (sh.truncate_error) return *sh.truncate_error;
      Track(sh);
      uint64_t& synced = sh.synced_size[target_->path().string()];
      synced = std::min(synced, size);
    }
    return target_->Truncate(size);
  }

  Result<uint64_t> Size() const override { return target_->Size(); }
  int fd() const override { return target_->fd(); }
  const std::filesystem::path& path() const override { return target_->path(); }

 private:
  // REQUIRES: sh.mu held. Saves what a write at [offset, offset + n) replaces
  // below the synced size, for DropUnsyncedData to put back.
  void RememberOverwrite(FaultInjectionFileSystem::Shared& sh, uint64_t offset, size_t n) {
    const std::string p = target_->path().string();
    const uint64_t synced = sh.synced_size[p];
    if (offset >= synced) return;
    std::vector<uint8_t> old(static_cast<size_t>(std::min<uint64_t>(offset + n, synced) - offset));
    if (!ReadFully(*target_, offset, old).ok()) return;
    sh.overwrites[p].push_back({sh.next_sequence++, offset, std::move(old)});
  }

  // First write to a file: what it held before is considered durable.
  void Track(FaultInjectionFileSystem::Shared& sh) {
    const std::string p = target_->path().string();
    if (!sh.synced_size.count(p)) {
      Result<uint64_t> size = target_->Size();
      sh.synced_size[p] = size.ok() ? *size : 0;
    }
  }

  std::shared_ptr<File> target_;
  FaultInjectionFileSystem* fs_;
};

Result<std::shared_ptr<File>> FaultInjectionFileSystem::Open(const std::filesystem::path& path,
                                                             bool create) {
  if (create) SLUICE_RETURN_IF_ERROR(Mutation());
  Result<bool> existed = target()->Exists(path);
  Result<std::shared_ptr<File>> f = target()->Open(path, create);
  if (!f.ok()) return f;
  if (existed.ok() && !*existed) {
    std::lock_guard lock(shared_->mu);
    shared_->synced_size[path.string()] = 0;  // Created now: nothing durable yet.
  }
  return std::shared_ptr<File>(std::make_shared<FaultFile>(*f, this));
}

Status FaultInjectionFileSystem::Rename(const std::filesystem::path& from,
                                        const std::filesystem::path& to) {
  SLUICE_RETURN_IF_ERROR(Mutation());
  Status s = target()->Rename(from, to);
  if (s.ok()) {
    std::lock_guard lock(shared_->mu);
    auto it = shared_->synced_size.find(from.string());
    if (it != shared_->synced_size.end()) {
      shared_->synced_size[to.string()] = it->second;
      shared_->synced_size.erase(it);
    }
    auto ow = shared_->overwrites.find(from.string());
    if (ow != shared_->overwrites.end()) {
      shared_->overwrites[to.string()] = std::move(ow->second);
      shared_->overwrites.erase(ow);
    }
  }
  return s;
}

Status FaultInjectionFileSystem::SyncFileSystem(const std::filesystem::path& dir) {
  PassSyncGate();
  SLUICE_RETURN_IF_ERROR(Mutation());
  std::vector<std::string> paths;
  {
    std::lock_guard lock(shared_->mu);
    if (shared_->sync_error) return *shared_->sync_error;
    for (const auto& [path, size] : shared_->synced_size) paths.push_back(path);
  }
  if (int64_t d = sync_delay_us_.load()) std::this_thread::sleep_for(std::chrono::microseconds(d));
  uint64_t sequence;
  {
    std::lock_guard lock(shared_->mu);
    sequence = shared_->next_sequence;
  }
  // Sizes before the sync: later writes are not covered.
  std::map<std::string, uint64_t> sizes;
  for (const std::string& path : paths) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    if (!ec) sizes[path] = size;
  }
  Status s = target()->SyncFileSystem(dir);
  if (!s.ok()) return s;
  filesystem_syncs_++;
  std::lock_guard lock(shared_->mu);
  for (const auto& [path, size] : sizes) {
    auto it = shared_->synced_size.find(path);
    if (it != shared_->synced_size.end()) it->second = std::max(it->second, size);
    shared_->KeepOverwritesBefore(path, sequence);
  }
  return s;
}

Status FaultInjectionFileSystem::Mutation() {
  const uint64_t n = mutations_++;
  if (n >= crash_at_.load()) return Status::IOError("simulated crash");
  return Status::Ok();
}

void FaultInjectionFileSystem::CrashAfter(uint64_t k) { crash_at_ = mutations_.load() + k; }

Status FaultInjectionFileSystem::CreateDir(const std::filesystem::path& dir) {
  if (dir_hook_) dir_hook_(dir);
  SLUICE_RETURN_IF_ERROR(Mutation());
  return target()->CreateDir(dir);
}

Status FaultInjectionFileSystem::Remove(const std::filesystem::path& path) {
  SLUICE_RETURN_IF_ERROR(Mutation());
  return target()->Remove(path);
}

Status FaultInjectionFileSystem::RemoveTree(const std::filesystem::path& dir) {
  if (dir_hook_) dir_hook_(dir);
  SLUICE_RETURN_IF_ERROR(Mutation());
  return target()->RemoveTree(dir);
}

Status FaultInjectionFileSystem::SyncDir(const std::filesystem::path& dir) {
  SLUICE_RETURN_IF_ERROR(Mutation());
  return target()->SyncDir(dir);
}

void FaultInjectionFileSystem::Shared::KeepOverwritesBefore(const std::string& path,
                                                             uint64_t sequence) {
  auto it = overwrites.find(path);
  if (it == overwrites.end()) return;
  std::erase_if(it->second, [&](const Overwrite& o) { return o.sequence < sequence; });
}

void FaultInjectionFileSystem::FailWrites(Status s, size_t partial_bytes) {
  std::lock_guard lock(shared_->mu);
  shared_->write_error = std::move(s);
  shared_->partial_bytes = partial_bytes;
}

void FaultInjectionFileSystem::FailSyncs(Status s) {
  std::lock_guard lock(shared_->mu);
  shared_->sync_error = std::move(s);
}

void FaultInjectionFileSystem::FailTruncates(Status s) {
  std::lock_guard lock(shared_->mu);
  shared_->truncate_error = std::move(s);
}

void FaultInjectionFileSystem::PassSyncGate() {
  std::unique_lock lock(shared_->mu);
  if (!shared_->hold_syncs) return;
  ++shared_->held_syncs;
  shared_->gate_cv.notify_all();
  shared_->gate_cv.wait(lock, [&] { return !shared_->hold_syncs; });
  --shared_->held_syncs;
}

void FaultInjectionFileSystem::HoldSyncs() {
  std::lock_guard lock(shared_->mu);
  shared_->hold_syncs = true;
}

void FaultInjectionFileSystem::ReleaseSyncs() {
  {
    std::lock_guard lock(shared_->mu);
    shared_->hold_syncs = false;
  }
  shared_->gate_cv.notify_all();
}

bool FaultInjectionFileSystem::WaitForHeldSyncs(int n, std::chrono::milliseconds timeout) {
  std::unique_lock lock(shared_->mu);
  return shared_->gate_cv.wait_for(lock, timeout, [&] { return shared_->held_syncs >= n; });
}

void FaultInjectionFileSystem::ClearFaults() {
  std::lock_guard lock(shared_->mu);
  shared_->write_error.reset();
  shared_->sync_error.reset();
  shared_->truncate_error.reset();
}

uint64_t FaultInjectionFileSystem::synced_size(const std::filesystem::path& path) const {
  std::lock_guard lock(shared_->mu);
  auto it = shared_->synced_size.find(path.string());
  return it == shared_->synced_size.end() ? 0 : it->second;
}

Status FaultInjectionFileSystem::DropUnsyncedData() {
  std::map<std::string, uint64_t> sizes;
  std::map<std::string, std::vector<Shared::Overwrite>> overwrites;
  {
    std::lock_guard lock(shared_->mu);
    sizes = shared_->synced_size;
    overwrites.swap(shared_->overwrites);
  }
  for (const auto& [path, size] : sizes) {
    Result<bool> exists = target()->Exists(path);
    if (!exists.ok() || !*exists) continue;
    Result<std::shared_ptr<File>> f = target()->Open(path, false);
    if (!f.ok()) return f.status();
    // Newest first, so each range ends up as it was at the last sync.
    auto ow = overwrites.find(path);
    if (ow != overwrites.end()) {
      for (auto o = ow->second.rbegin(); o != ow->second.rend(); ++o) {
        SLUICE_RETURN_IF_ERROR((*f)->Write(o->offset, o->old_bytes));
      }
    }
    Result<uint64_t> cur = (*f)->Size();
    if (!cur.ok()) return cur.status();
    if (*cur > size) SLUICE_RETURN_IF_ERROR((*f)->Truncate(size));
  }
  return Status::Ok();
}

}  // namespace sluice::storage::testing
