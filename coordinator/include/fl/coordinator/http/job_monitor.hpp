// What the coordinator's HTTP server may know about a running job: copies of the job's
// description, every round's metrics and the workers' states, taken on the round thread (a
// RoundObserver) and handed to the server thread under a mutex. The server never touches the
// engine, the registry or the ledger handle of the round loop.
#pragma once

#include <cstdint>
#include <mutex>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/coordinator/round_metrics.hpp"
#include "fl/coordinator/round_observer.hpp"
#include "fl/coordinator/worker_registry.hpp"

namespace fl::coordinator {

struct JobInfo {
  std::string job_id;
  std::string model;
  std::string rule;
  std::string scorer;
  int rounds = 0;  // planned
  int min_workers = 0;
  std::uint64_t reward_per_round = 0;
  bool ledger_enabled = true;
};

struct WorkerView {
  common::PublicKey key{};
  bool connected = false;          // heard from within the heartbeat timeout
  std::uint64_t last_seen_ms = 0;  // Unix time
};

struct JobSnapshot {
  JobInfo job;
  std::string state;  // "waiting for workers", "running", "finished"
  std::vector<RoundMetrics> rounds;
  std::vector<WorkerView> workers;  // in key order
  // [ledger] etcd: blocks seen rewritten or deleted in etcd, and the height the newest named.
  std::uint64_t ledger_rewrites = 0;
  std::uint64_t ledger_rewrite_height = 0;
};

class JobMonitor final : public RoundObserver {
 public:
  // `registry` is read only inside on_job_start and on_round, on the round thread.
  JobMonitor(JobInfo job, const WorkerRegistry& registry, double heartbeat_timeout_s);

  void on_job_start() override;
  void on_round(const RoundMetrics& m) override;
  JobSnapshot snapshot() const;  // any thread
  void on_ledger_alarm(std::uint64_t height);  // any thread (the ledger watch's)

 private:
  std::vector<WorkerView> copy_workers() const;

  const WorkerRegistry& registry_;
  const double heartbeat_timeout_s_;
  mutable std::mutex mutex_;
  JobSnapshot shared_;
};

}  // namespace fl::coordinator
