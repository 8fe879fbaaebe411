// The reference a sweep's scorers are checked against ([simulation] shapley_reference = true):
// each round's exact Shapley values of the accepted updates, with the utility of a coalition
// = test accuracy after global + server_lr x (the coalition's sample-weighted average), the
// empty coalition keeping the global model. 2^n evaluations a round, so n <= 12; the rank
// correlation with the round's recorded scores goes into the sweep's Shapley report.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/model_host.hpp"
#include "fl/coordinator/round_collector.hpp"

namespace fl::coordinator {

inline constexpr std::size_t kMaxShapleyWorkers = 12;

// nullopt when fewer than 2 or more than kMaxShapleyWorkers updates were accepted.
Result<std::optional<std::vector<double>>> exact_round_shapley(std::span<const float> global,
                                                               const CollectedRound& collected,
                                                               double server_learning_rate,
                                                               ModelEvaluator& evaluator);

}  // namespace fl::coordinator
