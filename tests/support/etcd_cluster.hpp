// Real etcd members for tests and benchmarks: 1 or 3 processes on free loopback ports, data in
// a temporary directory, killed (SIGKILL) when the object goes away, even when a test fails.
// Tests skip when the etcd binary is not installed (Debian package etcd-server).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/ledger/etcd_client.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl::test {

// `n` distinct free loopback ports: all bound at once (so they differ), then released.
Result<std::vector<int>> free_ports(int n);

class EtcdCluster {
 public:
  // The etcd binary ($FL_ETCD_BIN, /usr/bin/etcd or etcd on PATH), or nullopt.
  static std::optional<std::string> binary();

  // Starts `members` members and waits (up to 30 s) until every one sees a leader.
  static Result<std::unique_ptr<EtcdCluster>> start(int members);
  ~EtcdCluster();
  EtcdCluster(const EtcdCluster&) = delete;
  EtcdCluster& operator=(const EtcdCluster&) = delete;

  std::vector<std::string> client_urls() const;
  // Client options over every member, with bounds that suit a loopback cluster.
  ledger::EtcdOptions options() const;
  // The index of the member that is leader now, as the members see it.
  Result<int> leader();
  void kill(int member);  // SIGKILL, and waits for the process to go
  // Starts a killed member again on its data directory and ports (it rejoins the cluster).
  Status restart(int member);
  bool running(int member);
  // Waits until every running member reports the same leader, one that is running.
  Status wait_for_leader(std::chrono::milliseconds timeout);

 private:
  EtcdCluster() = default;
  struct Member {
    std::string name, client_url, peer_url;
    std::uint64_t id = 0;
    std::vector<std::string> argv;
    std::unique_ptr<ChildProcess> process;
  };
  std::unique_ptr<TempDir> dir_;
  std::vector<Member> members_;
  std::unique_ptr<ledger::EtcdClient> client_;  // for member_status
};

}  // namespace fl::test
