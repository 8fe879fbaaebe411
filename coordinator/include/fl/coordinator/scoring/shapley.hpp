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
#include "fl/coordinator/scoring/validation.hpp"

namespace fl::coordinator {

// utility(members): the value of the coalition `members` (sorted indices in [0, n)).
using CoalitionUtility = std::function<Result<double>(std::span<const std::size_t> members)>;

Result<std::vector<double>> exact_shapley(std::size_t n, const CoalitionUtility& utility);

// GTG-Shapley's permutation sampling (Liu et al. 2022) over any utility that is built one member
// at a time: each cycle has every player lead one random order; within an order, once the
// prefix is within `prefix_truncation` of the full coalition's value the remaining marginals
// are 0; converged when a cycle moved the estimates by at most `convergence` of their total
// magnitude; at most `max_cycles` cycles. `before` and `full` are the values of the empty and
// the full coalition.
struct PermutationWalk {
  std::function<void()> reset;                         // back to the empty coalition
  std::function<Result<double>(std::size_t)> add;      // add a player; the coalition's value
};
struct GtgSampling {
  double prefix_truncation = 1e-3;
  double convergence = 0.05;
  int max_cycles = 10;
};
// True when all 2^n coalitions cost no more than the sampling's budget of max_cycles x n
// permutations of n steps (n <= 9 at 10 cycles): the scorers compute exact values then.
bool exact_within_sampling_budget(std::size_t n, const GtgSampling& sampling);
Result<std::vector<double>> gtg_sampled_shapley(std::size_t n, double before, double full, std::uint64_t seed,
                                                const PermutationWalk& walk, const GtgSampling& sampling = {});

// The validation game in the model's outputs (the output_shapley scorer): a coalition's value
// is the validation accuracy of the global model's logits plus the coalition's weighted mean
// of its members' logit changes; the empty coalition's is the global's accuracy. To first
// order in the updates those are the logits after the coalition's fedavg step, and a coalition
// costs no forward pass: one pass per update gives all 2^n. Accuracy, not the loss: the game
// the issue measures against is accuracy, and on 6-worker federations the loss game ranked
// workers 0.50 against exact Shapley, the accuracy game 0.83 (docs/incentives.md).
class OutputGame {
 public:
  // What a coalition's logits are worth: the fraction of examples classified right, or minus
  // the mean cross-entropy (smooth: it still moves when no prediction changes).
  enum class Utility { kAccuracy, kLoss };
  // weights: per update (empty: equal); `outputs` must outlive the game.
  OutputGame(const ValidationOutputs& outputs, std::span<const double> weights,
             Utility utility = Utility::kAccuracy);
  Status check() const;  // the shapes agree
  std::size_t players() const { return out_.changes.size(); }

  struct Coalition {
    std::vector<float> sum;  // sum of w_i x change_i over the members
    double total = 0;        // sum of their weights
  };
  Coalition empty() const;
  void add(Coalition& c, std::size_t i) const { step(c, i, 1.0); }
  void remove(Coalition& c, std::size_t i) const { step(c, i, -1.0); }
  double value(const Coalition& c) const;

 private:
  void step(Coalition& c, std::size_t i, double sign) const;
  const ValidationOutputs& out_;
  std::vector<double> weights_;
  Utility utility_;
};
// Its Shapley values: exact (all 2^n coalitions, in Gray-code order, one update added or
// removed per coalition) when 2^n <= max_cycles x n^2, else gtg_sampled_shapley. `evaluations`
// receives the coalitions valued. A round whose full coalition changes the value by less than
// `round_truncation` pays no one (GTG-Shapley's between-round truncation).
Result<std::vector<double>> output_game_shapley(const OutputGame& game, std::uint64_t seed,
                                                std::int64_t& evaluations, double round_truncation = 1e-3,
                                                const GtgSampling& sampling = {});

// Spearman rank correlation (average ranks for ties); 0 when either side is constant.
double spearman(std::span<const double> a, std::span<const double> b);

}  // namespace fl::coordinator
