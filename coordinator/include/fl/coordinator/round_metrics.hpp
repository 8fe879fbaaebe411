// One row per round: the fields are listed once, in round_metric_fields(), and every output is
// derived from that table: JSON lines (metrics.jsonl) and CSV (metrics.csv) in the run folder,
// and the live table on stdout, so a person can watch and plot the job.
#pragma once

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/round_observer.hpp"

namespace fl::coordinator {

struct RoundMetrics {
  std::uint64_t round = 0;
  int sampled = 0;
  int answered = 0;  // updates that arrived, accepted or not
  int accepted = 0;
  int rejected = 0;
  int task_errors = 0;    // workers that reported they could not do the task
  int clipped = 0;        // accepted updates scaled down to the round's norm bound
  int free_riders = 0;    // accepted updates screened out of the reward (zero, noise, replays)
  int copies = 0;         // accepted updates in a copy group sharing one reward
  // Input refused without a ledger entry this round (UnrecordedInput in round_collector.hpp).
  std::uint64_t undecodable = 0;
  std::uint64_t unregistered = 0;
  std::uint64_t bad_signature = 0;
  std::uint64_t unsampled = 0;
  std::uint64_t over_rejection_cap = 0;
  std::uint64_t rate_limited = 0;
  std::uint64_t registrations_refused = 0;
  double train_loss = 0;  // sample-weighted over accepted updates
  double test_loss = 0;
  double test_accuracy = 0;
  double round_seconds = 0;
  double slowest_train_seconds = 0;  // as reported by the slowest accepted worker
  double aggregate_seconds = 0;
  double scoring_seconds = 0;  // screening and contribution scoring
  double eval_seconds = 0;
  double collect_seconds = 0;  // task sent until the round closed
  double ledger_seconds = 0;   // recording the round's block
  std::uint64_t update_bytes = 0;  // payload bytes of the accepted updates
  std::uint64_t minted = 0;        // reward tokens the round's block minted
  std::uint64_t ledger_height = 0;
  std::string rule;
  std::string scorer;          // the contribution scorer's name, e.g. "cosine"
  std::string close_reason;    // "all answered", "quorum after soft deadline", "deadline", ...
  std::string never_answered;  // short ids of sampled workers that sent nothing, space-separated
};

using MetricValue = std::variant<std::int64_t, double, std::string>;

// One column of every output. live_width 0: not in the live table.
struct MetricField {
  enum class Format { kInteger, kReal, kPercent, kText };
  std::string_view name;  // JSON key and CSV header
  Format format;
  MetricValue (*get)(const RoundMetrics&);
  std::string_view live_label = {};
  int live_width = 0;
};

std::span<const MetricField> round_metric_fields();

// "a,b" -> "\"a,b\"" (RFC 4180): text is always quoted, quotes doubled.
std::string csv_quote(std::string_view text);
std::string csv_header();
std::string csv_row(const RoundMetrics& m);
std::string json_line(const RoundMetrics& m);
std::string live_header();
std::string live_row(const RoundMetrics& m);

// RoundMetrics::never_answered from the sampled workers that sent nothing: short ids
// (common::short_id), space-separated, in the given order.
std::string short_id_list(std::span<const common::PublicKey> keys);

// The RoundObserver that keeps metrics.jsonl and metrics.csv in the run folder and prints the
// live table on stdout.
class MetricsWriter final : public RoundObserver {
 public:
  // Appends to existing files (a resumed job keeps its history); a metrics.csv written with other
  // columns is moved aside to metrics.<n>.csv first, so no file mixes two layouts.
  static Result<MetricsWriter> open(const std::filesystem::path& dir, bool live_table);

  void on_job_start() override;  // the live table's header
  void on_round(const RoundMetrics& m) override;

 private:
  MetricsWriter() = default;
  std::ofstream jsonl_;
  std::ofstream csv_;
  bool live_ = true;
};

}  // namespace fl::coordinator
