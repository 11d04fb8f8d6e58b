#include "api/handler_table.h"

#include <algorithm>
#include <array>

#include <fmt/format.h>

#include "api/handlers/handlers.h"
#include "protocol/error_code.h"

namespace sluice::api {
namespace {

// A body that does not decode closes the connection, as Kafka does for an
// invalid request.
template <typename Request>
bool DecodeBody(RequestContext& ctx, protocol::Reader& in, Request& request) {
  Status s = request.Decode(in, ctx.version());
  if (s.ok()) return true;
  ctx.RecordError(protocol::ToWire(protocol::ErrorCode::INVALID_REQUEST));
  ctx.respond.CloseConnection(
      fmt::format("malformed {} v{}: {}", Request::kName, ctx.version(), s.message()));
  return false;
}

// Decodes the body as `Request` and calls `Handle`, which owns the request.
template <typename Request, void (*Handle)(RequestContext, Request)>
void Dispatch(RequestContext ctx, protocol::Reader& in) {
  Request request;
  if (DecodeBody(ctx, in, request)) Handle(std::move(ctx), std::move(request));
}

// For a handler that takes its request by const reference and keeps nothing
// of it once it returns (Produce): the body is decoded into a request this
// thread reuses, whose vectors and strings keep their capacity, so decoding
// allocates nothing. Between requests it holds stale views into freed frames,
// which are only ever overwritten. A nested call (none today: answers are
// posted) would decode into a fresh request instead.
template <typename Request, void (*Handle)(RequestContext, const Request&)>
void DispatchReused(RequestContext ctx, protocol::Reader& in) {
  thread_local Request reused;
  thread_local bool in_use = false;
  if (in_use) {
    Request request;
    if (DecodeBody(ctx, in, request)) Handle(std::move(ctx), request);
    return;
  }
  in_use = true;
  struct Release {
    ~Release() { in_use = false; }
  } release;
  if (DecodeBody(ctx, in, reused)) Handle(std::move(ctx), reused);
}

template <typename Request>
constexpr HandlerEntry MakeEntry(int16_t min_version, int16_t max_version,
                                 void (*dispatch)(RequestContext, protocol::Reader&)) {
  static_assert(Request::kMinVersion >= 0);
  return HandlerEntry{Request::kApiKey, std::max(min_version, Request::kMinVersion),
                      std::min(max_version, Request::kMaxVersion), dispatch};
}

template <typename Request, void (*Handle)(RequestContext, Request)>
constexpr HandlerEntry Entry(int16_t min_version, int16_t max_version) {
  return MakeEntry<Request>(min_version, max_version, &Dispatch<Request, Handle>);
}

template <typename Request, void (*Handle)(RequestContext, const Request&)>
constexpr HandlerEntry Entry(int16_t min_version, int16_t max_version) {
  return MakeEntry<Request>(min_version, max_version, &DispatchReused<Request, Handle>);
}

template <typename Request, void (*Handle)(RequestContext, Request)>
constexpr HandlerEntry ClusterEntry(int16_t min_version, int16_t max_version) {
  HandlerEntry e = Entry<Request, Handle>(min_version, max_version);
  e.cluster_only = true;
  return e;
}

using namespace protocol;

// The versions each handler implements. Produce starts at v3, the first
// version that carries v2 record batches (no down-conversion).
constexpr std::array kHandlers = {
    Entry<ProduceRequest, HandleProduce>(3, 9),
    Entry<FetchRequest, HandleFetch>(4, 12),
    Entry<ListOffsetsRequest, HandleListOffsets>(1, 7),
    Entry<MetadataRequest, HandleMetadata>(0, 12),
    Entry<ApiVersionsRequest, HandleApiVersions>(0, 3),
    Entry<CreateTopicsRequest, HandleCreateTopics>(0, 7),
    Entry<DeleteTopicsRequest, HandleDeleteTopics>(0, 6),
    Entry<InitProducerIdRequest, HandleInitProducerId>(0, 4),
    Entry<DescribeClusterRequest, HandleDescribeCluster>(0, 1),
    Entry<CreatePartitionsRequest, HandleCreatePartitions>(0, 3),
    Entry<DescribeConfigsRequest, HandleDescribeConfigs>(0, 4),
    Entry<AlterConfigsRequest, HandleAlterConfigs>(0, 2),
    Entry<IncrementalAlterConfigsRequest, HandleIncrementalAlterConfigs>(0, 1),
    Entry<DeleteRecordsRequest, HandleDeleteRecords>(0, 2),
    Entry<DescribeLogDirsRequest, HandleDescribeLogDirs>(0, 4),
    Entry<OffsetForLeaderEpochRequest, HandleOffsetForLeaderEpoch>(0, 4),
    Entry<FindCoordinatorRequest, HandleFindCoordinator>(0, 4),
    Entry<JoinGroupRequest, HandleJoinGroup>(0, 9),
    Entry<SyncGroupRequest, HandleSyncGroup>(0, 5),
    Entry<HeartbeatRequest, HandleHeartbeat>(0, 4),
    Entry<LeaveGroupRequest, HandleLeaveGroup>(0, 5),
    Entry<OffsetCommitRequest, HandleOffsetCommit>(0, 8),
    Entry<OffsetFetchRequest, HandleOffsetFetch>(0, 8),
    Entry<OffsetDeleteRequest, HandleOffsetDelete>(0, 0),
    Entry<DescribeGroupsRequest, HandleDescribeGroups>(0, 5),
    Entry<ListGroupsRequest, HandleListGroups>(0, 4),
    Entry<DeleteGroupsRequest, HandleDeleteGroups>(0, 2),
    ClusterEntry<LeaderAndIsrRequest, HandleLeaderAndIsr>(0, 7),
    ClusterEntry<StopReplicaRequest, HandleStopReplica>(0, 4),
    ClusterEntry<UpdateMetadataRequest, HandleUpdateMetadata>(0, 8),
    ClusterEntry<AlterPartitionRequest, HandleAlterPartition>(0, 1),
    ClusterEntry<ElectLeadersRequest, HandleElectLeaders>(0, 2),
    ClusterEntry<AlterPartitionReassignmentsRequest, HandleAlterPartitionReassignments>(0, 0),
    ClusterEntry<ListPartitionReassignmentsRequest, HandleListPartitionReassignments>(0, 0),
    ClusterEntry<ControlledShutdownRequest, HandleControlledShutdown>(0, 3),
};

}  // namespace

std::span<const HandlerEntry> Handlers() { return kHandlers; }

const HandlerEntry* FindHandler(int16_t api_key, bool in_cluster) {
  const HandlerEntry* e = FindHandler(api_key);
  return e != nullptr && e->cluster_only && !in_cluster ? nullptr : e;
}

const HandlerEntry* FindHandler(int16_t api_key) {
  for (const HandlerEntry& e : kHandlers) {
    if (e.api_key == api_key) return &e;
  }
  return nullptr;
}

}  // namespace sluice::api
