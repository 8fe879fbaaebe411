// fl-coordinator's HTTP server ([http] listen): /metrics (Prometheus), /api/job, /api/rounds,
// /api/workers, the ledger API (/api/ledger/..., read-only from ledger.db) and the dashboard.
// Everything it shows comes from the JobMonitor's copies, the ledger file, and (for a resumed
// job) the metrics.jsonl rows written before this process started.
#pragma once

#include <memory>
#include <string>

#include "fl/common/result.hpp"
#include "fl/coordinator/http/job_monitor.hpp"
#include "fl/coordinator/job_config.hpp"

namespace fl::coordinator {

class JobHttpServer {
 public:
  // Binds config.http_listen; off loopback a bearer token is required (config.http_token, or one
  // generated into <output_dir>/http.token with mode 0600).
  static Result<std::unique_ptr<JobHttpServer>> start(const JobConfig& config,
                                                      const JobMonitor& monitor);
  ~JobHttpServer();
  std::string url() const;

 private:
  struct State;
  explicit JobHttpServer(std::unique_ptr<State> state);
  std::unique_ptr<State> state_;
};

}  // namespace fl::coordinator
