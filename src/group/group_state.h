// The states of a classic consumer group, as Kafka names them (they are
// what DescribeGroups and ListGroups report):
//
//   Empty --join--> PreparingRebalance --all joined / timeout--> CompletingRebalance
//   CompletingRebalance --leader's SyncGroup--> Stable
//   Stable / CompletingRebalance --join, leave, expiry--> PreparingRebalance
//   PreparingRebalance --everyone gone--> Empty;  Empty --deleted--> Dead
#pragma once

#include <optional>
#include <string_view>

namespace sluice::group {

enum class GroupState { kEmpty, kPreparingRebalance, kCompletingRebalance, kStable, kDead };

std::string_view GroupStateName(GroupState state);
// Case-insensitive, as Kafka's ListGroups states filter.
std::optional<GroupState> ParseGroupState(std::string_view name);

}  // namespace sluice::group
