// Contribution scores: how much each accepted update helped this round; the ledger turns them
// into reward shares. A ContributionScorer is the seam: make_scorer(spec) builds one by name.
//   cosine       the positive part of the cosine between an update and the robust aggregate
//                (kept for comparison: it pays whoever points along the consensus)
//   fltrust      trust = ReLU(cos(update, reference)), the reference being the coordinator's own
//                update on its validation set (Cao et al. 2021, FLTrust), times the update's
//                effort: min(bounded claim / median claim, norm / median norm)
//   loo          leave-one-out: the validation utility (minus the loss) of the round's fedavg
//                minus that without the update, positive part
//   gtg_shapley  a sampled Shapley value of the same utility (GTG-Shapley, Liu et al. 2022)
//   output_shapley  the default: Shapley values of the validation accuracy, coalitions combined
//                in the model's outputs (one forward pass per update), gated by fltrust's trust
//                relative to the round's median and capped at 3x the others' mean
//                (validation_scorers.cpp)
// The validation scorers need the coordinator's ValidationOracle (scoring/validation.hpp).
// Plain spans, no torch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/scoring/validation.hpp"

namespace fl::coordinator {

struct ScoringInput {
  std::span<const std::span<const float>> updates;  // accepted deltas, in worker-key order
  std::span<const std::uint64_t> sample_counts;     // as claimed, same order (not trusted)
  std::span<const float> aggregate;                 // the rule's combined delta
  std::span<const float> global_before;             // the global model before this round
  std::span<const double> weights;  // bounded aggregation weights, same order (empty: equal)
  // Each update's norm as received, before the norm bound (empty: the norms of `updates`): the
  // work it delivered, which fltrust's effort reads.
  std::span<const double> received_norms;
  double server_learning_rate = 1.0;
  std::uint64_t round = 0;
  ValidationOracle* validation = nullptr;  // required by scorers that need_validation()
};

class ContributionScorer {
 public:
  virtual ~ContributionScorer() = default;
  // Canonical spec, recorded in metrics: make_scorer(name()) builds the same scorer.
  virtual std::string name() const = 0;
  // One score >= 0 per update, in input order.
  virtual Result<std::vector<double>> score(const ScoringInput& input) = 0;
  // True when score() measures models on the coordinator's validation set.
  virtual bool needs_validation() const { return false; }
  // Validation measurements the last score() made (the scorer's cost), 0 for cosine.
  virtual std::int64_t last_evaluations() const { return 0; }
};

// Specs: "cosine", "fltrust", "loo", "gtg_shapley", "output_shapley". Unknown names are an
// error listing the known ones.
Result<std::unique_ptr<ContributionScorer>> make_scorer(std::string_view spec);

// Checks the input's shape (counts match, every update as long as the aggregate).
Status check_scoring_input(const ScoringInput& input);

double cosine_similarity(std::span<const float> a, std::span<const float> b);
std::vector<double> contribution_scores(std::span<const std::span<const float>> updates,
                                        std::span<const float> aggregate);
double l2_norm(std::span<const float> v);
// The median (mean of the two middle values for an even count); 0 for none.
double median(std::vector<double> values);

}  // namespace fl::coordinator
