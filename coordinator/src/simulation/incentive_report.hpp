// The incentive side of a sweep: for every run under an attack or strategy, what the strategic
// owner earned against what the same data earned honestly in the clean run with the same rule,
// scorer and partition (the gain), what the honest workers kept, the accuracy cost, and the
// share of round time spent scoring. Written as incentives.csv and incentives.md. No torch.
#pragma once

#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/simulation/simulator.hpp"

namespace fl::coordinator {

struct IncentiveRow {
  std::string id;        // the strategic run's setting id
  std::string strategy;  // the attack's name
  std::string rule, scorer, partition;
  // Strategic owner's rewards / the same data's honest rewards (sybil: all its keys against
  // worker 0 alone). rich: the rich worker's reward / a poor worker's (mean), same run.
  double gain = 0;
  double honest_kept = 0;     // the other workers' rewards / theirs in the clean run
  double accuracy_delta = 0;  // mean test accuracy over rounds minus the clean run's, in points
  double scoring_share = 0;   // scoring seconds / round seconds, mean over rounds
  int free_riders = 0;        // the strategic owner's updates screened out, over all rounds
  int honest_screened = 0;    // the other workers' updates screened out (false positives)
  int copies = 0;
};

// Rows for every result that has a clean counterpart (attack none, no Byzantine workers).
std::vector<IncentiveRow> incentive_rows(std::span<const SettingResult> results);

// Per setting: how its scorer ranks against exact Shapley ([simulation] shapley_reference) and
// what its rounds paid (rounds whose validation loss did not fall pay a tenth).
struct ScoringRow {
  std::string id, rule, scorer;
  int rounds = 0;
  int no_improvement = 0;      // rounds that paid a tenth
  double paid = 0;             // sum of the rounds' budgets (each 1 or 0.1)
  int shapley_rounds = 0;      // rounds with a Shapley reference
  double spearman_mean = 0, spearman_min = 0;
  double scoring_share = 0;    // scoring seconds / round seconds, mean over rounds
  double round_seconds = 0;    // mean
  int screened = 0;            // updates screened out, over all rounds (a clean run: all honest)
};
std::vector<ScoringRow> scoring_rows(std::span<const SettingResult> results);
// Writes scoring.csv and scoring.md under `dir`; returns the markdown.
Result<std::string> write_scoring_report(const std::filesystem::path& dir,
                                         std::span<const SettingResult> results);

// Writes incentives.csv and incentives.md under `dir` when there is at least one row; returns
// the markdown (empty when none).
Result<std::string> write_incentive_report(const std::filesystem::path& dir,
                                           std::span<const SettingResult> results);

}  // namespace fl::coordinator
