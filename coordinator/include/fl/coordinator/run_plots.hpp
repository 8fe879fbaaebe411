// The charts a run folder gets when `fl-coordinator run` ends, however it ends (done, stopped,
// failed): accuracy.svg (test accuracy and loss per round, from metrics.jsonl) and rewards.svg
// (tokens each worker earned over the rounds, from the ledger). Both are drawn from the files,
// so any run folder can be drawn again; `fl-coordinator compare` reads the same history.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct RoundAccuracy {
  std::uint64_t round = 0;
  double test_accuracy = 0;  // in [0, 1]
  double test_loss = 0;
  std::string rule;
};

// metrics.jsonl in `run_dir`, one entry per round in round order (a round written twice keeps
// its last row). kNotFound naming the file when there is none; kCorrupt naming the line when
// a line is not a metrics row.
Result<std::vector<RoundAccuracy>> read_round_accuracy(const std::filesystem::path& run_dir);

// Tokens each worker had earned by the end of each round of `job_id`, from the ledger.
struct WorkerEarnings {
  std::string worker;                 // short id
  std::vector<std::uint64_t> rounds;  // rounds of the job on the ledger, ascending
  std::vector<double> cumulative;     // tokens earned up to and including each round
};
// Workers by total earned (highest first, ties by id). kNotFound when there is no ledger.db.
Result<std::vector<WorkerEarnings>> read_worker_earnings(const std::filesystem::path& run_dir,
                                                         const std::string& job_id);

std::string run_accuracy_chart_svg(const std::string& job_id,
                                   std::span<const RoundAccuracy> rounds);
// At most 9 workers by name; the rest as one line of their mean.
std::string run_rewards_chart_svg(const std::string& job_id,
                                  std::span<const WorkerEarnings> workers);

// Writes accuracy.svg and rewards.svg into `run_dir`, each when it has something to draw (no
// rounds yet, or no ledger in research mode: that file is skipped). Returns the files written.
Result<std::vector<std::filesystem::path>> write_run_plots(const std::filesystem::path& run_dir,
                                                           const std::string& job_id);

// Calls write_run_plots when it goes out of scope, so every way out of a job leaves its plots;
// a failure to plot is logged as a warning, never raised.
class RunPlotsOnExit {
 public:
  RunPlotsOnExit(std::filesystem::path run_dir, std::string job_id)
      : run_dir_(std::move(run_dir)), job_id_(std::move(job_id)) {}
  ~RunPlotsOnExit();
  RunPlotsOnExit(const RunPlotsOnExit&) = delete;
  RunPlotsOnExit& operator=(const RunPlotsOnExit&) = delete;

 private:
  std::filesystem::path run_dir_;
  std::string job_id_;
};

}  // namespace fl::coordinator
