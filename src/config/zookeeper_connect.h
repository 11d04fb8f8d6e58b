// zookeeper.connect: "host:port[,host:port...][/chroot]", as Kafka and the
// ZooKeeper client take it. Parsed here only to refuse a malformed value at
// start-up with a message naming the fault; the ZooKeeper client is given the
// text itself.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "base/status.h"

namespace sluice::config {

struct ZkConnect {
  std::vector<std::pair<std::string, uint16_t>> servers;  // host (IPv6 without brackets), port
  std::string chroot;  // "" or "/a/b": every znode of the cluster lives below it
};

// InvalidArgument for an empty list, a server without a host or a port in
// 1..65535, or a chroot that is not a ZooKeeper path ("/" alone means none).
Result<ZkConnect> ParseZkConnect(std::string_view text);

}  // namespace sluice::config
