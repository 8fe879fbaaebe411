// Exact Shapley values by enumeration of all 2^n coalitions, for checking the sampled scorers
// (gtg_shapley) and for tests/bench/shapley_bench: phi_i = sum over S not holding i of
// |S|! (n-|S|-1)! / n! x (U(S + i) - U(S)). Costs 2^n utility calls; n is limited to 20.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

// utility(members): the value of the coalition `members` (sorted indices in [0, n)).
using CoalitionUtility = std::function<Result<double>(std::span<const std::size_t> members)>;

Result<std::vector<double>> exact_shapley(std::size_t n, const CoalitionUtility& utility);

// Spearman rank correlation (average ranks for ties); 0 when either side is constant.
double spearman(std::span<const double> a, std::span<const double> b);

}  // namespace fl::coordinator
