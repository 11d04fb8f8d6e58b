// OffsetFetch: a group's committed offsets (-1 where none is committed);
// a null topic list (v2+) asks for all of them; v8 asks for several groups.
#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

using protocol::ErrorCode;

struct TopicOffsets {
  std::string name;
  std::vector<group::FetchedOffset> partitions;
};

// The group's offsets grouped by topic, in the order asked (or stored).
std::pair<ErrorCode, std::vector<TopicOffsets>> Fetch(
    BrokerServices& services, const std::string& group_id,
    const std::optional<std::vector<group::PartitionKey>>& wanted) {
  auto [error, offsets] = services.groups.FetchOffsets(group_id, wanted);
  std::vector<TopicOffsets> topics;
  for (auto& f : offsets) {
    if (topics.empty() || topics.back().name != f.topic) topics.push_back({f.topic, {}});
    topics.back().partitions.push_back(std::move(f));
  }
  return {error, std::move(topics)};
}

template <typename Topics>
std::optional<std::vector<group::PartitionKey>> Wanted(const std::optional<Topics>& topics) {
  if (!topics) return std::nullopt;
  std::vector<group::PartitionKey> keys;
  for (const auto& t : *topics) {
    for (int32_t p : t.partition_indexes) keys.push_back({t.name, p});
  }
  return keys;
}

// Copies one fetched offset into a response partition (v0-v7 and v8 have
// different generated types with the same fields).
template <typename ResponsePartition>
void Fill(ResponsePartition& p, const group::FetchedOffset& f) {
  p.partition_index = f.partition;
  p.committed_offset = f.offset;
  p.committed_leader_epoch = f.leader_epoch;
  p.metadata = f.metadata;
}

}  // namespace

void HandleOffsetFetch(RequestContext ctx, protocol::OffsetFetchRequest request) {
  BrokerServices& services = *ctx.services;
  protocol::OffsetFetchResponse response;
  if (ctx.version() < 8) {
    auto [error, topics] = Fetch(services, request.group_id, Wanted(request.topics));
    for (auto& t : topics) {
      auto& out = response.topics.emplace_back();
      out.name = t.name;
      for (auto& f : t.partitions) {
        auto& p = out.partitions.emplace_back();
        Fill(p, f);
        // v0-v1 have no top-level error: it goes on every partition.
        if (ctx.version() < 2) p.error_code = protocol::ToWire(error);
      }
    }
    response.error_code = protocol::ToWire(error);
    ctx.RecordError(response.error_code);
  } else {
    for (const auto& g : request.groups) {
      auto [error, topics] = Fetch(services, g.group_id, Wanted(g.topics));
      auto& out_group = response.group_ids.emplace_back();
      out_group.group_id = g.group_id;
      out_group.error_code = protocol::ToWire(error);
      ctx.RecordError(out_group.error_code);
      for (auto& t : topics) {
        auto& out = out_group.topics.emplace_back();
        out.name = t.name;
        for (auto& f : t.partitions) {
          Fill(out.partitions.emplace_back(), f);
        }
      }
    }
  }
  ctx.Respond(response);
}

}  // namespace sluice::api
