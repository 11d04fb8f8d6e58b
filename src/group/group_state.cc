#include "group/group_state.h"

#include <array>
#include <cctype>

namespace sluice::group {
namespace {

constexpr std::array<std::pair<GroupState, std::string_view>, 5> kNames = {{
    {GroupState::kEmpty, "Empty"},
    {GroupState::kPreparingRebalance, "PreparingRebalance"},
    {GroupState::kCompletingRebalance, "CompletingRebalance"},
    {GroupState::kStable, "Stable"},
    {GroupState::kDead, "Dead"},
}};

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string_view GroupStateName(GroupState state) {
  for (const auto& [s, name] : kNames) {
    if (s == state) return name;
  }
  return "Unknown";
}

std::optional<GroupState> ParseGroupState(std::string_view name) {
  for (const auto& [s, n] : kNames) {
    if (EqualsIgnoreCase(n, name)) return s;
  }
  return std::nullopt;
}

}  // namespace sluice::group
