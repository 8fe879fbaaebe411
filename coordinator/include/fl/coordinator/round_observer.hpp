// Whatever watches a job's rounds: the metrics files and live table today (MetricsWriter), later
// a Prometheus exporter and the dashboard. The round engine calls every observer once per round,
// after the round is on the ledger; observers never change the round.
#pragma once

namespace fl::coordinator {

struct RoundMetrics;  // round_metrics.hpp

class RoundObserver {
 public:
  virtual ~RoundObserver() = default;
  // Before the first round of this process (a resumed job calls it again).
  virtual void on_job_start() {}
  virtual void on_round(const RoundMetrics& metrics) = 0;
};

}  // namespace fl::coordinator
