#include "fl/coordinator/http/job_monitor.hpp"

#include <chrono>

namespace fl::coordinator {

JobMonitor::JobMonitor(JobInfo job, const WorkerRegistry& registry, double heartbeat_timeout_s)
    : registry_(registry), heartbeat_timeout_s_(heartbeat_timeout_s) {
  shared_.job = std::move(job);
  shared_.state = "waiting for workers";
}

std::vector<WorkerView> JobMonitor::copy_workers() const {
  const auto now = Clock::now();
  const auto wall_now = std::chrono::system_clock::now();
  std::vector<WorkerView> out;
  for (const auto& [key, rec] : registry_.all()) {
    const auto silent = now - rec.last_seen;
    WorkerView w;
    w.key = key;
    w.connected = std::chrono::duration<double>(silent).count() <= heartbeat_timeout_s_;
    const auto seen =
        wall_now - std::chrono::duration_cast<std::chrono::system_clock::duration>(silent);
    w.last_seen_ms = static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(seen.time_since_epoch()).count());
    out.push_back(w);
  }
  return out;
}

void JobMonitor::on_job_start() {
  auto workers = copy_workers();
  std::lock_guard lock(mutex_);
  shared_.state = "running";
  shared_.workers = std::move(workers);
}

void JobMonitor::on_round(const RoundMetrics& m) {
  auto workers = copy_workers();
  std::lock_guard lock(mutex_);
  shared_.rounds.push_back(m);
  shared_.workers = std::move(workers);
  if (m.round >= static_cast<std::uint64_t>(shared_.job.rounds)) shared_.state = "finished";
}

void JobMonitor::on_ledger_alarm(std::uint64_t height) {
  std::lock_guard lock(mutex_);
  ++shared_.ledger_rewrites;
  shared_.ledger_rewrite_height = height;
}

JobSnapshot JobMonitor::snapshot() const {
  std::lock_guard lock(mutex_);
  return shared_;
}

}  // namespace fl::coordinator
