#include "fl/coordinator/round.hpp"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <optional>
#include <random>

#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/privacy/client_dp.hpp"
#include "fl/coordinator/round_combine.hpp"
#include "round_validation.hpp"

namespace fl::coordinator {

std::vector<common::PublicKey> sample_workers(std::vector<common::PublicKey> available,
                                              const SamplingPolicy& policy, std::uint64_t seed,
                                              std::uint64_t round) {
  std::sort(available.begin(), available.end());
  const auto n = available.size();
  const auto want = std::max<std::size_t>(
      static_cast<std::size_t>(std::max(policy.min_workers, 0)),
      static_cast<std::size_t>(std::ceil(policy.fraction * static_cast<double>(n))));
  if (want >= n) return available;
  std::mt19937_64 rng(seed * 1'000'003 + round);
  std::shuffle(available.begin(), available.end(), rng);
  available.resize(want);
  std::sort(available.begin(), available.end());
  return available;
}

Result<ClosedRound> close_round(std::span<const float> global, const CollectedRound& collected,
                                AggregationRule& rule, ScoringContext& scoring,
                                ModelEvaluator& evaluator, const CloseSettings& settings) {
  using Seconds = std::chrono::duration<double>;
  ClosedRound out;
  out.global.assign(global.begin(), global.end());
  auto& scorer = scoring.scorer;
  out.scorer = scorer.name();
  std::vector<std::uint64_t> samples;
  std::vector<std::span<const float>> received;
  std::vector<common::PublicKey> workers;
  for (const auto& u : collected.accepted) {
    samples.push_back(u.header.num_samples);
    received.push_back(u.values);
    workers.push_back(u.header.worker_key);
  }
  std::optional<double> reference_norm;
  if (settings.bounds.rescale_to_reference && !collected.accepted.empty()) {
    if (scoring.validation == nullptr) {
      return make_error(ErrorCode::kPrecondition,
                        "[aggregation] rescale_to_reference needs the coordinator's validation set "
                        "([scoring] validation_samples > 0)");
    }
    FL_ASSIGN_OR_RETURN(const auto reference, scoring.validation->reference_update(global, collected.round));
    reference_norm = l2_norm(reference);
  }
  auto bounded = bound_updates(received, samples, settings.bounds, reference_norm);
  const auto& weights = bounded.weights;
  auto& views = bounded.views;
  out.clipped = bounded.clipped;
  double loss_sum = 0, sample_sum = 0;
  for (std::size_t i = 0; i < collected.accepted.size(); ++i) {
    const auto& u = collected.accepted[i];
    loss_sum += u.header.train_loss * weights[i];
    sample_sum += weights[i];
    out.slowest_train_seconds = std::max(out.slowest_train_seconds, u.header.train_seconds);
  }
  out.train_loss = sample_sum > 0 ? loss_sum / sample_sum : 0;
  out.scores.assign(views.size(), 0.0);
  out.score_reasons.assign(views.size(), "");
  out.copy_group.assign(views.size(), -1);

  // Client-level DP (privacy/client_dp.hpp): clip to C, equal weights, noise; may refuse.
  const auto dp = privatize_updates(settings.privacy, collected.round, views);
  out.dp_clipped = dp.clipped;

  const auto start = std::chrono::steady_clock::now();
  std::optional<Result<std::vector<float>>> aggregate;
  if (views.empty()) {
    out.outcome = "no updates";
  } else if (!dp.refusal.empty()) {
    out.outcome = dp.refusal;
  } else if (aggregate = rule.aggregate(views); !aggregate->ok()) {
    out.outcome = "rule refused: " + aggregate->error().message;
  }
  out.aggregate_seconds = Seconds(std::chrono::steady_clock::now() - start).count();
  if (out.outcome.empty()) {
    const auto& combined = aggregate->value();
    const auto scoring_start = std::chrono::steady_clock::now();
    std::vector<std::span<const float>> spans;  // what the rule combined, in the same order
    for (const auto& v : views) spans.push_back(v.values);
    ScoringInput input{spans, samples, combined, global};
    input.weights = weights;
    input.received_norms = bounded.norms;
    input.server_learning_rate = settings.server_learning_rate;
    input.round = collected.round;
    input.validation = scoring.validation;
    FL_ASSIGN_OR_RETURN(auto raw, scorer.score(input));
    out.scoring_evaluations = scorer.last_evaluations();
    Screening screening{out.score_reasons, out.copy_group};  // none flagged without a history
    if (scoring.history != nullptr) {
      screening = screen_updates({received, workers, scoring.fingerprints}, *scoring.history,
                                 scoring.screening);
    }
    out.scores = apply_screening(raw, screening);
    out.free_riders = screening.flagged();
    out.copies = static_cast<int>(std::count_if(screening.copy_group.begin(), screening.copy_group.end(),
                                                [](int g) { return g >= 0; }));
    out.score_reasons = std::move(screening.reasons);
    out.copy_group = std::move(screening.copy_group);
    out.scoring_seconds = Seconds(std::chrono::steady_clock::now() - scoring_start).count();

    const auto change = server_step(out.global, combined, settings.server_learning_rate);
    if (scoring.history != nullptr && screening.sketches.size() == received.size()) {
      scoring.history->record_sketched_round(collected.round, change, workers, std::move(screening.sketches));
    } else if (scoring.history != nullptr) {
      scoring.history->record_round(collected.round, change, workers, received);
    }
  }
  out.model_digest = common::digest_of(out.global);
  if (scoring.validation != nullptr) {
    // What the ledger's "no improvement pays a tenth" rule reads (ledger/rewards.hpp).
    FL_ASSIGN_OR_RETURN(out.validation_before, scoring.validation->measure(global));
    if (out.outcome.empty()) {
      FL_ASSIGN_OR_RETURN(out.validation_after, scoring.validation->measure(out.global));
    } else {
      out.validation_after = out.validation_before;
    }
  }
  FL_ASSIGN_OR_RETURN(out.eval, evaluator.evaluate(out.global));
  return out;
}

std::optional<ledger::RoundValidation> validation_record(const ClosedRound& closed) {
  if (!closed.validation_before || !closed.validation_after) return std::nullopt;
  return ledger::RoundValidation{closed.validation_before->loss, closed.validation_after->loss};
}

}  // namespace fl::coordinator
