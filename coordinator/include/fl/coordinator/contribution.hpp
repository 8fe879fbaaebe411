// Contribution scores: how much each accepted update helped this round; the ledger turns them
// into reward shares. A ContributionScorer is the seam: make_scorer(spec) builds one by name
// ("cosine": the positive part of the cosine similarity between an update and the robust
// aggregate, so updates pointing away from the consensus earn nothing). Plain spans, no torch.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct ScoringInput {
  std::span<const std::span<const float>> updates;  // accepted deltas, in worker-key order
  std::span<const std::uint64_t> sample_counts;     // as claimed, same order (not trusted)
  std::span<const float> aggregate;                 // the rule's combined delta
  std::span<const float> global_before;             // the global model before this round
};

class ContributionScorer {
 public:
  virtual ~ContributionScorer() = default;
  // Canonical spec, recorded in metrics: make_scorer(name()) builds the same scorer.
  virtual std::string name() const = 0;
  // One score >= 0 per update, in input order.
  virtual Result<std::vector<double>> score(const ScoringInput& input) = 0;
};

// Specs: "cosine". Unknown names are an error listing the known ones.
Result<std::unique_ptr<ContributionScorer>> make_scorer(std::string_view spec);

// Checks the input's shape (counts match, every update as long as the aggregate).
Status check_scoring_input(const ScoringInput& input);

double cosine_similarity(std::span<const float> a, std::span<const float> b);
std::vector<double> contribution_scores(std::span<const std::span<const float>> updates,
                                        std::span<const float> aggregate);
double l2_norm(std::span<const float> v);

}  // namespace fl::coordinator
