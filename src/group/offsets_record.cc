#include "group/offsets_record.h"

#include "protocol/wire/reader.h"
#include "protocol/wire/writer.h"

namespace sluice::group {
namespace {

using protocol::Reader;
using protocol::Writer;

constexpr int16_t kOffsetKeyVersion = 1;
constexpr int16_t kGroupKeyVersion = 2;
constexpr int16_t kOffsetValueVersion = 3;
constexpr int16_t kGroupValueVersion = 3;

// Reads a non-nullable string; a null one (-1) is a format error here.
Status ReadString(Reader& in, const char* field, std::string* out) {
  in.SetField(field);
  return in.ReadString(out, /*compact=*/false);
}

Status ReadNullableString(Reader& in, const char* field, std::optional<std::string>* out) {
  in.SetField(field);
  return in.ReadNullableString(out, /*compact=*/false, /*nullable=*/true);
}

Status ReadBytes(Reader& in, const char* field, std::vector<uint8_t>* out) {
  in.SetField(field);
  return in.ReadBytes(out, /*compact=*/false);
}

template <typename T>
Status ReadFixed(Reader& in, const char* field, T* out) {
  in.SetField(field);
  if constexpr (sizeof(T) == 2) return in.ReadInt16(out);
  if constexpr (sizeof(T) == 4) return in.ReadInt32(out);
  if constexpr (sizeof(T) == 8) return in.ReadInt64(out);
}

#define RETURN_IF_ERROR(expr)        \
  do {                               \
    Status _s = (expr);              \
    if (!_s.ok()) return _s;         \
  } while (0)

Status ExpectEnd(const Reader& in) {
  // Newer versions may append fields; Kafka readers ignore them too, but we
  // only read versions whose layout we know, so leftovers mean corruption.
  if (in.remaining() != 0) return in.Error("unexpected bytes after the record");
  return Status::Ok();
}

}  // namespace

std::vector<uint8_t> EncodeKey(const OffsetKey& key) {
  Writer out;
  out.WriteInt16(kOffsetKeyVersion);
  out.WriteString(key.group, false);
  out.WriteString(key.topic, false);
  out.WriteInt32(key.partition);
  return out.Take();
}

std::vector<uint8_t> EncodeKey(const GroupKey& key) {
  Writer out;
  out.WriteInt16(kGroupKeyVersion);
  out.WriteString(key.group, false);
  return out.Take();
}

std::vector<uint8_t> EncodeValue(const CommittedOffset& value) {
  Writer out;
  out.WriteInt16(kOffsetValueVersion);
  out.WriteInt64(value.offset);
  out.WriteInt32(value.leader_epoch);
  out.WriteString(value.metadata, false);
  out.WriteInt64(value.commit_timestamp_ms);
  return out.Take();
}

std::vector<uint8_t> EncodeValue(const StoredGroup& value) {
  Writer out;
  out.WriteInt16(kGroupValueVersion);
  out.WriteString(value.protocol_type, false);
  out.WriteInt32(value.generation);
  out.WriteNullableString(value.protocol, false, true);
  out.WriteNullableString(value.leader, false, true);
  out.WriteInt64(value.state_timestamp_ms);
  out.WriteInt32(static_cast<int32_t>(value.members.size()));
  for (const StoredMember& m : value.members) {
    out.WriteString(m.member_id, false);
    out.WriteNullableString(m.group_instance_id, false, true);
    out.WriteString(m.client_id, false);
    out.WriteString(m.client_host, false);
    out.WriteInt32(m.rebalance_timeout_ms);
    out.WriteInt32(m.session_timeout_ms);
    out.WriteBytes(m.subscription, false);
    out.WriteBytes(m.assignment, false);
  }
  return out.Take();
}

Result<OffsetsTopicKey> DecodeKey(std::span<const uint8_t> bytes) {
  Reader in(bytes);
  in.SetRoot("OffsetsTopicKey");
  int16_t version = 0;
  RETURN_IF_ERROR(ReadFixed(in, "version", &version));
  if (version == 0 || version == 1) {
    OffsetKey key;
    RETURN_IF_ERROR(ReadString(in, "group", &key.group));
    RETURN_IF_ERROR(ReadString(in, "topic", &key.topic));
    RETURN_IF_ERROR(ReadFixed(in, "partition", &key.partition));
    RETURN_IF_ERROR(ExpectEnd(in));
    return OffsetsTopicKey(std::move(key));
  }
  if (version == 2) {
    GroupKey key;
    RETURN_IF_ERROR(ReadString(in, "group", &key.group));
    RETURN_IF_ERROR(ExpectEnd(in));
    return OffsetsTopicKey(std::move(key));
  }
  return in.Error("unknown key version " + std::to_string(version));
}

Result<CommittedOffset> DecodeOffsetValue(std::span<const uint8_t> bytes) {
  Reader in(bytes);
  in.SetRoot("OffsetCommitValue");
  int16_t version = 0;
  RETURN_IF_ERROR(ReadFixed(in, "version", &version));
  if (version < 0 || version > 3) return in.Error("unknown version " + std::to_string(version));
  CommittedOffset value;
  RETURN_IF_ERROR(ReadFixed(in, "offset", &value.offset));
  if (version >= 3) RETURN_IF_ERROR(ReadFixed(in, "leader_epoch", &value.leader_epoch));
  RETURN_IF_ERROR(ReadString(in, "metadata", &value.metadata));
  RETURN_IF_ERROR(ReadFixed(in, "commit_timestamp", &value.commit_timestamp_ms));
  if (version == 1) {
    int64_t expire = 0;  // Explicit expiry (OffsetCommit v2-v4); retention now decides.
    RETURN_IF_ERROR(ReadFixed(in, "expire_timestamp", &expire));
  }
  RETURN_IF_ERROR(ExpectEnd(in));
  return value;
}

Result<StoredGroup> DecodeGroupValue(std::span<const uint8_t> bytes) {
  Reader in(bytes);
  in.SetRoot("GroupMetadataValue");
  int16_t version = 0;
  RETURN_IF_ERROR(ReadFixed(in, "version", &version));
  if (version < 0 || version > 3) return in.Error("unknown version " + std::to_string(version));
  StoredGroup value;
  RETURN_IF_ERROR(ReadString(in, "protocol_type", &value.protocol_type));
  RETURN_IF_ERROR(ReadFixed(in, "generation", &value.generation));
  RETURN_IF_ERROR(ReadNullableString(in, "protocol", &value.protocol));
  RETURN_IF_ERROR(ReadNullableString(in, "leader", &value.leader));
  if (version >= 2) RETURN_IF_ERROR(ReadFixed(in, "current_state_timestamp",
                                              &value.state_timestamp_ms));
  int32_t count = 0;
  RETURN_IF_ERROR(ReadFixed(in, "members", &count));
  // Each member takes at least 26 bytes: refuse counts the input cannot hold.
  if (count < 0 || static_cast<size_t>(count) > in.remaining() / 26) {
    return in.Error("bad member count " + std::to_string(count));
  }
  value.members.resize(static_cast<size_t>(count));
  for (StoredMember& m : value.members) {
    RETURN_IF_ERROR(ReadString(in, "member_id", &m.member_id));
    if (version >= 3) RETURN_IF_ERROR(ReadNullableString(in, "group_instance_id",
                                                         &m.group_instance_id));
    RETURN_IF_ERROR(ReadString(in, "client_id", &m.client_id));
    RETURN_IF_ERROR(ReadString(in, "client_host", &m.client_host));
    if (version >= 1) RETURN_IF_ERROR(ReadFixed(in, "rebalance_timeout", &m.rebalance_timeout_ms));
    RETURN_IF_ERROR(ReadFixed(in, "session_timeout", &m.session_timeout_ms));
    if (version == 0) m.rebalance_timeout_ms = m.session_timeout_ms;
    RETURN_IF_ERROR(ReadBytes(in, "subscription", &m.subscription));
    RETURN_IF_ERROR(ReadBytes(in, "assignment", &m.assignment));
  }
  RETURN_IF_ERROR(ExpectEnd(in));
  return value;
}

int32_t OffsetsPartitionFor(std::string_view group, int32_t partition_count) {
  // Java hashes UTF-16 code units; decode UTF-8 (invalid bytes as U+FFFD,
  // as Java's decoder does) and hash the units.
  int32_t hash = 0;
  auto mix = [&hash](uint32_t unit) {
    hash = static_cast<int32_t>(static_cast<uint32_t>(hash) * 31u + unit);
  };
  size_t i = 0;
  while (i < group.size()) {
    const auto b0 = static_cast<uint8_t>(group[i]);
    uint32_t cp = 0xFFFD;
    size_t len = 1;
    auto cont = [&](size_t k) {
      return i + k < group.size() && (static_cast<uint8_t>(group[i + k]) & 0xC0) == 0x80;
    };
    auto bits = [&](size_t k) { return static_cast<uint32_t>(group[i + k]) & 0x3F; };
    if (b0 < 0x80) {
      cp = b0;
    } else if ((b0 & 0xE0) == 0xC0 && cont(1)) {
      cp = ((b0 & 0x1Fu) << 6) | bits(1);
      len = 2;
      if (cp < 0x80) cp = 0xFFFD;
    } else if ((b0 & 0xF0) == 0xE0 && cont(1) && cont(2)) {
      cp = ((b0 & 0x0Fu) << 12) | (bits(1) << 6) | bits(2);
      len = 3;
      if (cp < 0x800 || (cp >= 0xD800 && cp <= 0xDFFF)) cp = 0xFFFD;
    } else if ((b0 & 0xF8) == 0xF0 && cont(1) && cont(2) && cont(3)) {
      cp = ((b0 & 0x07u) << 18) | (bits(1) << 12) | (bits(2) << 6) | bits(3);
      len = 4;
      if (cp < 0x10000 || cp > 0x10FFFF) cp = 0xFFFD;
    }
    if (cp >= 0x10000) {
      cp -= 0x10000;
      mix(0xD800 + (cp >> 10));
      mix(0xDC00 + (cp & 0x3FF));
    } else {
      mix(cp);
    }
    i += len;
  }
  return (hash & 0x7fffffff) % partition_count;
}

}  // namespace sluice::group
