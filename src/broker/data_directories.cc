#include "broker/data_directories.h"

#include <filesystem>
#include <system_error>

#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace sluice::broker {

Status PrepareDataDirectories(const config::BrokerConfig& config) {
  for (const std::string& dir : config.log_dirs()) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) {
      return Status::IOError(fmt::format("log.dirs: cannot create '{}': {}", dir, ec.message()));
    }
    int partitions = 0;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      if (entry.is_directory()) ++partitions;
    }
    if (ec) {
      return Status::IOError(fmt::format("log.dirs: cannot list '{}': {}", dir, ec.message()));
    }
    spdlog::info("data directory {} holds {} partition directories", dir, partitions);
  }
  return Status::Ok();
}

}  // namespace sluice::broker
