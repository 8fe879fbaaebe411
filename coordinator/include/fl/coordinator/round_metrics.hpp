// One row per round, written as JSON lines (metrics.jsonl) and CSV (metrics.csv) in the run
// folder, and printed as a live table on stdout, so a person can watch and plot the job.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct RoundMetrics {
  std::uint64_t round = 0;
  int sampled = 0;
  int answered = 0;  // updates that arrived, accepted or not
  int accepted = 0;
  int rejected = 0;
  double train_loss = 0;  // sample-weighted over accepted updates
  double test_loss = 0;
  double test_accuracy = 0;
  double round_seconds = 0;
  double slowest_train_seconds = 0;  // as reported by the slowest accepted worker
  double aggregate_seconds = 0;
  double eval_seconds = 0;
  std::uint64_t ledger_height = 0;
  std::string rule;
  std::string close_reason;  // "all answered", "quorum after soft deadline", "deadline"
};

class MetricsWriter {
 public:
  // Appends to existing files (a resumed job keeps its history).
  static Result<MetricsWriter> open(const std::filesystem::path& dir, bool live_table);
  void write(const RoundMetrics& m);
  void print_header();

 private:
  MetricsWriter() = default;
  std::ofstream jsonl_;
  std::ofstream csv_;
  bool live_ = true;
};

}  // namespace fl::coordinator
