// The two halves of a round that do not depend on how workers are reached: who is asked
// (sample_workers) and what the accepted updates make of the global model (close_round:
// aggregate with the rule, server step, contribution scores, evaluation). `fl-coordinator run`
// and `fl-coordinator simulate` both call these, so their rounds cannot drift apart.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/model_host.hpp"
#include "fl/coordinator/round_collector.hpp"
#include "fl/coordinator/scoring/scoring_context.hpp"
#include "fl/coordinator/update_bounds.hpp"

namespace fl::coordinator {

struct SamplingPolicy {
  double fraction = 1.0;  // share of the available workers asked each round
  int min_workers = 1;    // ask at least this many (all of them when fewer are available)
};

// max(min_workers, ceil(fraction * n)) of the n available workers, at most n, chosen by a
// shuffle seeded with (seed, round); returned sorted, the order updates are combined in.
std::vector<common::PublicKey> sample_workers(std::vector<common::PublicKey> available,
                                              const SamplingPolicy& policy, std::uint64_t seed,
                                              std::uint64_t round);

struct ClosedRound {
  std::vector<float> global;     // the new global model (unchanged when nothing was combined)
  common::Digest model_digest{};  // common::digest_of(global)
  std::vector<double> scores;    // one per accepted update, in worker-key order
  std::string scorer;            // the scorer's name, recorded with the round
  std::string outcome;           // "" when combined; "no updates" or "rule refused: ..."
  double train_loss = 0;         // sample-weighted over the accepted updates, as claimed
  double slowest_train_seconds = 0;
  double aggregate_seconds = 0;
  int clipped = 0;  // updates scaled down to the round's norm bound (update_bounds.hpp)
  // Screening (scoring/screening.hpp): per accepted update, "" or why it earns nothing, and
  // its copy group (-1: none); how many were flagged and how many share a copy group.
  std::vector<std::string> score_reasons;
  std::vector<int> copy_group;
  int free_riders = 0;
  int copies = 0;
  double scoring_seconds = 0;          // screening and scoring
  std::int64_t scoring_evaluations = 0;  // validation measurements the scorer made
  int dp_clipped = 0;  // updates clipped to the DP norm bound (privacy/client_dp.hpp)
  // With a validation set: the previous and the new global model measured on it (recorded with
  // the round; a round that does not lower the loss pays a tenth of its share).
  std::optional<ValidationMetrics> validation_before, validation_after;
  EvalMetrics eval;
};

// Combines `collected.accepted` (already in worker-key order) into the next global model:
// global + server_lr * rule(updates), screens and scores each update (`scoring`; the screening
// history, when given, then remembers this round) and evaluates. Before the
// rule sees them, updates are bounded as settings.bounds says: claimed sample counts become
// bounded weights, and an update over the round's norm bound is scaled down to it (a copy; the
// received update is what the ledger names). Training loss is weighted by the bounded weights.
// With client-level DP on (settings.privacy), the bounded updates are then clipped, weighed
// equally and noised before the rule (privacy/client_dp.hpp); a distributed-DP round with fewer
// than m updates is not combined. A rule that refuses keeps the global model and says why in
// `outcome`; only evaluation failures are errors.
Result<ClosedRound> close_round(std::span<const float> global, const CollectedRound& collected,
                                AggregationRule& rule, ScoringContext& scoring,
                                ModelEvaluator& evaluator, const CloseSettings& settings);
// The same with a scorer alone: no validation set, no screening.
inline Result<ClosedRound> close_round(std::span<const float> global, const CollectedRound& collected,
                                       AggregationRule& rule, ContributionScorer& scorer,
                                       ModelEvaluator& evaluator, const CloseSettings& settings) {
  ScoringContext scoring{scorer};
  return close_round(global, collected, rule, scoring, evaluator, settings);
}

}  // namespace fl::coordinator
