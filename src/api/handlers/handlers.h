// One function per Kafka API. Each takes ownership of the request context
// and answers through it, now or later. Declared here so that the handler
// table (handler_table.cc) is the single place listing what is implemented.
#pragma once

#include "api/request_context.h"
#include "protocol/generated/alter_configs.h"
#include "protocol/generated/alter_partition.h"
#include "protocol/generated/alter_partition_reassignments.h"
#include "protocol/generated/api_versions.h"
#include "protocol/generated/controlled_shutdown.h"
#include "protocol/generated/create_partitions.h"
#include "protocol/generated/create_topics.h"
#include "protocol/generated/delete_groups.h"
#include "protocol/generated/delete_records.h"
#include "protocol/generated/describe_log_dirs.h"
#include "protocol/generated/delete_topics.h"
#include "protocol/generated/describe_cluster.h"
#include "protocol/generated/describe_configs.h"
#include "protocol/generated/describe_groups.h"
#include "protocol/generated/elect_leaders.h"
#include "protocol/generated/fetch.h"
#include "protocol/generated/find_coordinator.h"
#include "protocol/generated/heartbeat.h"
#include "protocol/generated/incremental_alter_configs.h"
#include "protocol/generated/init_producer_id.h"
#include "protocol/generated/join_group.h"
#include "protocol/generated/leader_and_isr.h"
#include "protocol/generated/leave_group.h"
#include "protocol/generated/list_groups.h"
#include "protocol/generated/list_offsets.h"
#include "protocol/generated/list_partition_reassignments.h"
#include "protocol/generated/metadata.h"
#include "protocol/generated/offset_commit.h"
#include "protocol/generated/offset_delete.h"
#include "protocol/generated/offset_fetch.h"
#include "protocol/generated/offset_for_leader_epoch.h"
#include "protocol/generated/produce.h"
#include "protocol/generated/stop_replica.h"
#include "protocol/generated/sync_group.h"
#include "protocol/generated/update_metadata.h"

namespace sluice::api {

void HandleApiVersions(RequestContext ctx, protocol::ApiVersionsRequest request);
void HandleMetadata(RequestContext ctx, protocol::MetadataRequest request);
// By const reference: decoded into a per-thread request that is reused
// (handler_table.cc), so it must keep nothing of `request` after returning.
void HandleProduce(RequestContext ctx, const protocol::ProduceRequest& request);
void HandleFetch(RequestContext ctx, protocol::FetchRequest request);
void HandleListOffsets(RequestContext ctx, protocol::ListOffsetsRequest request);
void HandleCreateTopics(RequestContext ctx, protocol::CreateTopicsRequest request);
void HandleDeleteTopics(RequestContext ctx, protocol::DeleteTopicsRequest request);
void HandleInitProducerId(RequestContext ctx, protocol::InitProducerIdRequest request);
void HandleDescribeCluster(RequestContext ctx, protocol::DescribeClusterRequest request);
void HandleCreatePartitions(RequestContext ctx, protocol::CreatePartitionsRequest request);
void HandleDescribeConfigs(RequestContext ctx, protocol::DescribeConfigsRequest request);
void HandleAlterConfigs(RequestContext ctx, protocol::AlterConfigsRequest request);
void HandleIncrementalAlterConfigs(RequestContext ctx,
                                   protocol::IncrementalAlterConfigsRequest request);
void HandleDeleteRecords(RequestContext ctx, protocol::DeleteRecordsRequest request);
void HandleDescribeLogDirs(RequestContext ctx, protocol::DescribeLogDirsRequest request);
void HandleOffsetForLeaderEpoch(RequestContext ctx, protocol::OffsetForLeaderEpochRequest request);

// Consumer groups (group/group_coordinator.h).
void HandleFindCoordinator(RequestContext ctx, protocol::FindCoordinatorRequest request);
void HandleJoinGroup(RequestContext ctx, protocol::JoinGroupRequest request);
void HandleSyncGroup(RequestContext ctx, protocol::SyncGroupRequest request);
void HandleHeartbeat(RequestContext ctx, protocol::HeartbeatRequest request);
void HandleLeaveGroup(RequestContext ctx, protocol::LeaveGroupRequest request);
void HandleOffsetCommit(RequestContext ctx, protocol::OffsetCommitRequest request);
void HandleOffsetFetch(RequestContext ctx, protocol::OffsetFetchRequest request);
void HandleOffsetDelete(RequestContext ctx, protocol::OffsetDeleteRequest request);
void HandleDescribeGroups(RequestContext ctx, protocol::DescribeGroupsRequest request);
void HandleListGroups(RequestContext ctx, protocol::ListGroupsRequest request);
// The controller's requests to brokers, and a leader's or a stopping
// broker's to the controller (cluster only).
void HandleAlterPartition(RequestContext ctx, protocol::AlterPartitionRequest request);
void HandleControlledShutdown(RequestContext ctx, protocol::ControlledShutdownRequest request);
void HandleLeaderAndIsr(RequestContext ctx, protocol::LeaderAndIsrRequest request);
void HandleStopReplica(RequestContext ctx, protocol::StopReplicaRequest request);
void HandleUpdateMetadata(RequestContext ctx, protocol::UpdateMetadataRequest request);
// An admin's leader elections, served by the controller (cluster only).
void HandleElectLeaders(RequestContext ctx, protocol::ElectLeadersRequest request);
// An admin's partition reassignments (KIP-455), served by the controller
// (cluster only).
void HandleAlterPartitionReassignments(RequestContext ctx,
                                       protocol::AlterPartitionReassignmentsRequest request);
void HandleListPartitionReassignments(RequestContext ctx,
                                      protocol::ListPartitionReassignmentsRequest request);
void HandleDeleteGroups(RequestContext ctx, protocol::DeleteGroupsRequest request);

}  // namespace sluice::api
