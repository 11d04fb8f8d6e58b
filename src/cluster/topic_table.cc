#include "cluster/topic_table.h"

#include <charconv>
#include <mutex>
#include <random>

#include <fmt/format.h>

#include "base/crc32c.h"

namespace sluice::cluster {
namespace {

// Metadata log format, one record per line:
//   <crc32c of the record, 8 hex digits> <record>\n
// where <record> is space-separated tokens, each percent-encoded so that no
// token contains a space, a newline or '='. Records:
//   create <name> <id hex> <partitions> <replication factor> [<key>=<value> ...]
//   delete <name>
//   partitions <name> <count>
//   config <name> <key> <value>
//   unconfig <name> <key>
constexpr const char* kLogFileName = "topics.log";

bool IsPlain(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
         c == '_' || c == '-' || c == ':' || c == '/' || c == ',';
}

std::string Encode(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (IsPlain(c)) {
      out += c;
    } else {
      out += fmt::format("%{:02X}", static_cast<unsigned char>(c));
    }
  }
  return out;
}

std::optional<std::string> Decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '%') {
      out += s[i];
      continue;
    }
    if (i + 2 >= s.size()) return std::nullopt;
    unsigned v = 0;
    auto [p, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
    if (ec != std::errc() || p != s.data() + i + 3) return std::nullopt;
    out += static_cast<char>(v);
    i += 2;
  }
  return out;
}

std::vector<std::string_view> Split(std::string_view s) {
  std::vector<std::string_view> tokens;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(' ', start);
    if (end == std::string_view::npos) end = s.size();
    tokens.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return tokens;
}

template <typename T>
std::optional<T> ParseInt(std::string_view s) {
  T v{};
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

std::string Frame(std::string_view record) {
  const uint32_t crc = crc32c::Value(reinterpret_cast<const uint8_t*>(record.data()), record.size());
  return fmt::format("{:08x} {}\n", crc, record);
}

// Returns the record of one line, or nullopt if the line is damaged.
std::optional<std::string_view> Unframe(std::string_view line) {
  if (line.size() < 9 || line[8] != ' ') return std::nullopt;
  uint32_t crc = 0;
  auto [p, ec] = std::from_chars(line.data(), line.data() + 8, crc, 16);
  if (ec != std::errc() || p != line.data() + 8) return std::nullopt;
  std::string_view record = line.substr(9);
  if (crc32c::Value(reinterpret_cast<const uint8_t*>(record.data()), record.size()) != crc) {
    return std::nullopt;
  }
  return record;
}

std::string CreateRecord(const TopicInfo& t) {
  std::string r = fmt::format("create {} {} {} {}", Encode(t.name), TopicIdToString(t.id),
                              t.partition_count, t.replication_factor);
  for (const auto& [k, v] : t.configs) r += fmt::format(" {}={}", Encode(k), Encode(v));
  return r;
}

}  // namespace

TopicId NewTopicId() {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  TopicId id{};
  do {
    for (size_t i = 0; i < 16; i += 8) {
      uint64_t v = rng();
      for (size_t j = 0; j < 8; ++j) id[i + j] = static_cast<uint8_t>(v >> (8 * j));
    }
    id[6] = static_cast<uint8_t>((id[6] & 0x0F) | 0x40);  // Version 4.
    id[8] = static_cast<uint8_t>((id[8] & 0x3F) | 0x80);  // RFC 4122 variant.
  } while (id == TopicId{});
  return id;
}

std::optional<TopicId> ParseTopicId(std::string_view hex) {
  if (hex.size() != 32) return std::nullopt;
  TopicId id{};
  for (size_t i = 0; i < 16; ++i) {
    unsigned v = 0;
    auto [p, ec] = std::from_chars(hex.data() + 2 * i, hex.data() + 2 * i + 2, v, 16);
    if (ec != std::errc() || p != hex.data() + 2 * i + 2) return std::nullopt;
    id[i] = static_cast<uint8_t>(v);
  }
  return id;
}

std::string TopicIdToString(const TopicId& id) {
  std::string s;
  for (uint8_t b : id) s += fmt::format("{:02x}", b);
  return s;
}

// The append-only metadata log file, written through the FileSystem (so
// that tests can count, fail and crash its operations).
class TopicTable::Log {
 public:
  static Result<std::unique_ptr<Log>> Open(storage::FileSystem* fs,
                                           const std::filesystem::path& dir) {
    SLUICE_RETURN_IF_ERROR(storage::CreateDirsDurably(fs, dir));
    auto path = dir / kLogFileName;
    Result<bool> existed = fs->Exists(path);
    if (!existed.ok()) return existed.status();
    Result<std::shared_ptr<storage::File>> file = fs->Open(path, /*create=*/true);
    if (!file.ok()) return file.status();
    // A new file's name is durable before any record in it is.
    if (!*existed) SLUICE_RETURN_IF_ERROR(fs->SyncDir(dir));
    return std::unique_ptr<Log>(new Log(fs, dir, path, std::move(file).value()));
  }

  // Reads every intact record and sets `valid_bytes` to the length of the
  // prefix holding them; a damaged last record (torn write) ends the read.
  Result<std::vector<std::string>> ReadAll(size_t* valid_bytes) const {
    Result<std::string> read = storage::ReadWholeTextFile(fs_, path_);
    if (!read.ok()) return read.status();
    const std::string& content = *read;
    std::vector<std::string> records;
    size_t pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      auto record = nl == std::string::npos
                        ? std::nullopt
                        : Unframe(std::string_view(content).substr(pos, nl - pos));
      if (!record) {
        // Only a torn tail is expected: a damaged record followed by more
        // data means the file was corrupted, not cut short by a crash.
        if (nl != std::string::npos && content.find('\n', nl + 1) != std::string::npos) {
          return Status::Corruption(
              fmt::format("{}: damaged metadata record at byte {}", path_.string(), pos));
        }
        break;
      }
      records.emplace_back(*record);
      pos = nl + 1;
    }
    *valid_bytes = pos;
    return records;
  }

  // Cuts a torn tail (durably, so that it cannot come back after the next
  // record is appended behind it).
  Status TruncateTo(size_t bytes) {
    Result<uint64_t> size = file_->Size();
    if (!size.ok()) return size.status();
    end_ = bytes;
    if (*size == bytes) return Status::Ok();
    SLUICE_RETURN_IF_ERROR(file_->Truncate(bytes));
    return file_->Sync();
  }

  // Writes and syncs one record at the end. On failure the file is cut back
  // (best effort) and the next record is written over whatever reached it,
  // so a failed append never leaves a damaged record before a good one.
  Status Append(std::string_view record) {
    const std::string framed = Frame(record);
    const std::span<const uint8_t> bytes(reinterpret_cast<const uint8_t*>(framed.data()),
                                         framed.size());
    Status s = file_->Write(end_, bytes);
    if (s.ok()) s = file_->Sync();
    if (!s.ok()) {
      (void)file_->Truncate(end_);
      return s;
    }
    end_ += framed.size();
    return Status::Ok();
  }

  // Replaces the log by `records` with the atomic-write helper: a crash
  // leaves the old log or the new one.
  Status Rewrite(const std::vector<std::string>& records) {
    std::string data;
    for (const auto& r : records) data += Frame(r);
    SLUICE_RETURN_IF_ERROR(storage::WriteFileAtomically(fs_, dir_, kLogFileName, data));
    Result<std::shared_ptr<storage::File>> file = fs_->Open(path_, /*create=*/false);
    if (!file.ok()) return file.status();
    file_ = std::move(file).value();
    end_ = data.size();
    return Status::Ok();
  }

 private:
  Log(storage::FileSystem* fs, std::filesystem::path dir, std::filesystem::path path,
      std::shared_ptr<storage::File> file)
      : fs_(fs), dir_(std::move(dir)), path_(std::move(path)), file_(std::move(file)) {}

  storage::FileSystem* const fs_;
  const std::filesystem::path dir_;
  const std::filesystem::path path_;
  std::shared_ptr<storage::File> file_;
  uint64_t end_ = 0;  // Where the next record goes: the end of the last intact one.
};

TopicTable::TopicTable(std::unique_ptr<Log> log) : log_(std::move(log)) {}
TopicTable::~TopicTable() = default;

Result<std::unique_ptr<TopicTable>> TopicTable::Open(storage::FileSystem* fs,
                                                    const std::filesystem::path& dir) {
  auto log = Log::Open(fs, dir);
  if (!log.ok()) return log.status();
  size_t valid_bytes = 0;
  auto records = (*log)->ReadAll(&valid_bytes);
  if (!records.ok()) return records.status();
  SLUICE_RETURN_IF_ERROR((*log)->TruncateTo(valid_bytes));

  std::unique_ptr<TopicTable> table(new TopicTable(std::move(log).value()));
  WriterLock lock(&table->mu_);  // Uncontended: nobody else sees the table yet.
  for (const auto& r : *records) {
    Status s = table->Apply(r);
    if (!s.ok()) return Status::Corruption(fmt::format("metadata record \"{}\": {}", r, s.message()));
  }
  table->records_ = records->size();
  return table;
}

Status TopicTable::CompactIfLong() {
  WriterLock lock(&mu_);
  if (records_ <= 64 || records_ <= 2 * topics_.size()) return Status::Ok();
  std::vector<std::string> snapshot;
  for (const auto& [name, info] : topics_) snapshot.push_back(CreateRecord(info));
  SLUICE_RETURN_IF_ERROR(log_->Rewrite(snapshot));
  records_ = snapshot.size();
  deleted_.clear();
  return Status::Ok();
}

std::set<std::string, std::less<>> TopicTable::DeletedTopics() const {
  ReaderLock lock(&mu_);
  return deleted_;
}

Status TopicTable::Apply(std::string_view record) {
  auto tokens = Split(record);
  auto arg = [&](size_t i) -> std::optional<std::string> {
    if (i >= tokens.size()) return std::nullopt;
    return Decode(tokens[i]);
  };
  auto name = arg(1);
  if (tokens.empty() || !name) return Status::Corruption("record without a topic name");
  const std::string_view kind = tokens[0];
  auto it = topics_.find(*name);

  if (kind == "create") {
    if (tokens.size() < 5) return Status::Corruption("short create record");
    auto id = ParseTopicId(tokens[2]);
    auto partitions = ParseInt<int32_t>(tokens[3]);
    auto rf = ParseInt<int16_t>(tokens[4]);
    if (!id || !partitions || !rf) return Status::Corruption("bad create record");
    TopicInfo info{*name, *id, *partitions, *rf, {}};
    for (size_t i = 5; i < tokens.size(); ++i) {
      size_t eq = tokens[i].find('=');
      if (eq == std::string_view::npos) return Status::Corruption("bad config token");
      auto k = Decode(tokens[i].substr(0, eq));
      auto v = Decode(tokens[i].substr(eq + 1));
      if (!k || !v) return Status::Corruption("bad config token");
      info.configs[*k] = *v;
    }
    deleted_.erase(*name);
    topics_[*name] = std::move(info);
  } else if (it == topics_.end()) {
    return Status::NotFound(fmt::format("topic {} does not exist", *name));
  } else if (kind == "delete") {
    topics_.erase(it);
    deleted_.insert(*name);
  } else if (kind == "partitions") {
    auto count = tokens.size() == 3 ? ParseInt<int32_t>(tokens[2]) : std::nullopt;
    if (!count) return Status::Corruption("bad partitions record");
    it->second.partition_count = *count;
  } else if (kind == "config" || kind == "unconfig") {
    auto key = arg(2);
    if (!key) return Status::Corruption("bad config record");
    if (kind == "config") {
      auto value = arg(3);
      if (!value) return Status::Corruption("bad config record");
      it->second.configs[*key] = *value;
    } else {
      it->second.configs.erase(*key);
    }
  } else {
    return Status::Corruption(fmt::format("unknown record kind {}", kind));
  }
  ++version_;
  return Status::Ok();
}

Status TopicTable::Commit(const std::string& record) {
  SLUICE_RETURN_IF_ERROR(log_->Append(record));
  ++records_;
  return Apply(record);
}

Status TopicTable::CreateTopic(const TopicInfo& info) {
  WriterLock lock(&mu_);
  if (topics_.contains(info.name)) {
    return Status::AlreadyExists(fmt::format("topic {} already exists", info.name));
  }
  return Commit(CreateRecord(info));
}

Status TopicTable::DeleteTopic(std::string_view name) {
  WriterLock lock(&mu_);
  if (!topics_.contains(name)) return Status::NotFound(fmt::format("topic {} does not exist", name));
  return Commit(fmt::format("delete {}", Encode(name)));
}

Status TopicTable::SetPartitionCount(std::string_view name, int32_t new_count) {
  WriterLock lock(&mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status::NotFound(fmt::format("topic {} does not exist", name));
  if (new_count <= it->second.partition_count) {
    return Status::InvalidArgument(fmt::format("topic {} has {} partitions; {} is not more", name,
                                               it->second.partition_count, new_count));
  }
  return Commit(fmt::format("partitions {} {}", Encode(name), new_count));
}

Status TopicTable::RevertPartitionCount(std::string_view name, int32_t old_count) {
  WriterLock lock(&mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return Status::NotFound(fmt::format("topic {} does not exist", name));
  if (old_count <= 0 || old_count >= it->second.partition_count) {
    return Status::InvalidArgument(fmt::format("topic {} has {} partitions; {} is not fewer", name,
                                               it->second.partition_count, old_count));
  }
  return Commit(fmt::format("partitions {} {}", Encode(name), old_count));
}

Status TopicTable::SetConfig(std::string_view name, std::string_view key,
                             const std::optional<std::string>& value) {
  WriterLock lock(&mu_);
  if (!topics_.contains(name)) return Status::NotFound(fmt::format("topic {} does not exist", name));
  if (value) return Commit(fmt::format("config {} {} {}", Encode(name), Encode(key), Encode(*value)));
  return Commit(fmt::format("unconfig {} {}", Encode(name), Encode(key)));
}

std::optional<TopicInfo> TopicTable::Find(std::string_view name) const {
  ReaderLock lock(&mu_);
  auto it = topics_.find(name);
  if (it == topics_.end()) return std::nullopt;
  return it->second;
}

std::vector<TopicInfo> TopicTable::List() const {
  ReaderLock lock(&mu_);
  std::vector<TopicInfo> out;
  out.reserve(topics_.size());
  for (const auto& [name, info] : topics_) out.push_back(info);
  return out;
}

uint64_t TopicTable::version() const {
  ReaderLock lock(&mu_);
  return version_;
}

}  // namespace sluice::cluster
