// NetworkNamespace: a network namespace joined to the root namespace by a
// veth pair, for tests that cut one broker off the network (ip-netns(8)).
//
//   auto ns = NetworkNamespace::Create();   // nullptr + reason if not possible
//   ... start a broker under ns->exec_prefix(), listening on ns->inner_address(),
//       everything else on ns->outer_address() ...
//   ASSERT_TRUE(ns->Cut().ok());     // the namespace loses its only link
//   ASSERT_TRUE(ns->Restore().ok());
//
// Names and addresses are unique per test process: the namespace is
// "sluice-faults-<pid>", the veth ends "sfo<pid>" (root) and "sfi<pid>"
// (inside), and the addresses are the two hosts of a /30 in 10.0.0.0/8 picked
// by the pid (10.0.0.0/8 holds 2^22 such blocks, as many as there are pids).
// Cut() takes the inner end down: the root end keeps its address (so servers
// listening on outer_address() stay reachable from the root namespace) while
// nothing crosses the link. The destructor deletes the namespace and the veth
// whatever state the test left them in; Create() first removes namespaces
// that earlier test processes, now dead, left behind (a crash skips
// destructors). Requires root and ip(8). Not thread-safe.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "base/status.h"

namespace sluice::testing {

class NetworkNamespace {
 public:
  // The namespace, or nullptr with `*why_not` saying why it cannot be made
  // here (not root, no ip(8), no namespace support): the caller skips.
  static std::unique_ptr<NetworkNamespace> Create(std::string* why_not);
  ~NetworkNamespace();
  NetworkNamespace(const NetworkNamespace&) = delete;
  NetworkNamespace& operator=(const NetworkNamespace&) = delete;

  const std::string& name() const { return name_; }
  const std::string& outer_address() const { return outer_address_; }  // root end
  const std::string& inner_address() const { return inner_address_; }  // namespace end
  // Runs a program inside the namespace when put before its argv.
  std::vector<std::string> exec_prefix() const { return {"ip", "netns", "exec", name_}; }

  Status Cut();
  Status Restore();

 private:
  NetworkNamespace() = default;

  std::string name_;
  std::string outer_link_;
  std::string inner_link_;
  std::string outer_address_;
  std::string inner_address_;
};

// Runs `argv` (argv[0] looked up on PATH) and returns its exit code (128 +
// signal if killed, 127 if it could not run) with its output in `*output`.
int RunCommand(const std::vector<std::string>& argv, std::string* output = nullptr);

}  // namespace sluice::testing
