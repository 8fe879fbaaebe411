#include "validation_scorers.hpp"

#include "fl/coordinator/scoring/shapley.hpp"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace fl::coordinator {

namespace {

Status require_validation(const ScoringInput& in, std::string_view scorer) {
  FL_RETURN_IF_ERROR(check_scoring_input(in));
  if (in.validation == nullptr || in.validation->size() == 0) {
    return make_error(ErrorCode::kPrecondition,
                      "scorer '" + std::string(scorer) +
                          "' needs the coordinator's validation set; set [scoring] "
                          "validation_samples above 0");
  }
  if (!in.weights.empty() && in.weights.size() != in.updates.size()) {
    return make_error(ErrorCode::kInvalidArgument, "scoring: weights do not match the updates");
  }
  return ok_status();
}

// Minus the validation loss of global + lr * fedavg(subset), memoised by subset: the utility that
// leave-one-out and Shapley values are taken of (the subset's weighted mean of the bounded
// updates, as close_round's own weights give it).
class SubsetUtility {
 public:
  explicit SubsetUtility(const ScoringInput& in) : in_(in) {}

  Result<double> of(std::vector<std::size_t> members) {
    std::sort(members.begin(), members.end());
    if (auto it = memo_.find(members); it != memo_.end()) return it->second;
    Coalition c(in_.global_before.size());
    for (auto i : members) add(c, i);
    return evaluate(std::move(members), c);
  }

  // A coalition built one member at a time (a permutation's prefixes): each step adds one
  // update to the running sum instead of summing the prefix again.
  struct Coalition {
    explicit Coalition(std::size_t dim) : sum(dim, 0.0) {}
    std::vector<std::size_t> members;  // in the order added
    std::vector<double> sum;           // sum of weight x update over the members
    double total = 0;                  // sum of the weights
  };
  void add(Coalition& c, std::size_t i) const {
    const double w = in_.weights.empty() ? 1.0 : in_.weights[i];
    c.total += w;
    c.members.push_back(i);
    const auto u = in_.updates[i];
    for (std::size_t k = 0; k < c.sum.size(); ++k) c.sum[k] += w * u[k];
  }
  // The coalition without member i (leave-one-out): one subtraction instead of a new sum.
  Coalition without(const Coalition& c, std::size_t i) const {
    Coalition out = c;
    const double w = in_.weights.empty() ? 1.0 : in_.weights[i];
    out.total -= w;
    std::erase(out.members, i);
    const auto u = in_.updates[i];
    for (std::size_t k = 0; k < out.sum.size(); ++k) out.sum[k] -= w * u[k];
    return out;
  }
  Result<double> of(const Coalition& c) {
    auto key = c.members;
    std::sort(key.begin(), key.end());
    if (auto it = memo_.find(key); it != memo_.end()) return it->second;
    return evaluate(std::move(key), c);
  }
  std::int64_t evaluations() const { return evaluations_; }

 private:
  Result<double> evaluate(std::vector<std::size_t> key, const Coalition& c) {
    std::vector<float> model(in_.global_before.begin(), in_.global_before.end());
    if (c.total > 0) {
      const double step = in_.server_learning_rate / c.total;
      for (std::size_t k = 0; k < model.size(); ++k) model[k] += static_cast<float>(step * c.sum[k]);
    }
    FL_ASSIGN_OR_RETURN(auto m, in_.validation->measure(model));
    ++evaluations_;
    // Minus the validation loss: smooth where accuracy on a small set moves in steps of
    // 1 / size, so small contributions and small harms are both seen.
    const double value = -m.loss;
    memo_.emplace(std::move(key), value);
    return value;
  }

  const ScoringInput& in_;
  std::map<std::vector<std::size_t>, double> memo_;
  std::int64_t evaluations_ = 0;
};

// An update of at least this x the round's median norm has done an ordinary share of work.
constexpr double kFullEffortNorm = 0.5;

class FltrustScorer final : public ContributionScorer {
 public:
  std::string name() const override { return "fltrust"; }
  bool needs_validation() const override { return true; }
  std::int64_t last_evaluations() const override { return 1; }
  Result<std::vector<double>> score(const ScoringInput& in) override {
    FL_RETURN_IF_ERROR(require_validation(in, name()));
    FL_ASSIGN_OR_RETURN(auto reference, in.validation->reference_update(in.global_before, in.round));
    if (reference.size() != in.aggregate.size()) {
      return make_error(ErrorCode::kInternal, "fltrust: the reference update has the wrong size");
    }
    auto scores = contribution_scores(in.updates, reference);
    // Effort: trust pays for direction, effort for the share of the work. The work is the
    // bounded claim against the round's median claim, and the delivered norm (as received,
    // before the norm bound) must back it:
    // - up to the median claim, a norm of kFullEffortNorm x the median or more backs it in
    //   full, and a smaller one (a lazy update) earns in proportion, so scaling an ordinary
    //   update up earns nothing;
    // - above the median claim, the norm must grow with it (min(claim, norm)), so an inflated
    //   claim with an ordinary norm earns an ordinary share and more data up to the claim cap.
    std::vector<double> norms, weights;
    for (std::size_t i = 0; i < in.updates.size(); ++i) {
      const bool received = in.received_norms.size() == in.updates.size();
      norms.push_back(received ? in.received_norms[i] : l2_norm(in.updates[i]));
      weights.push_back(in.weights.empty() ? 1.0 : in.weights[i]);
    }
    const double median_norm = median(norms), median_weight = median(weights);
    for (std::size_t i = 0; i < scores.size(); ++i) {
      const double by_norm = median_norm > 0 ? norms[i] / median_norm : 0;
      const double by_claim = median_weight > 0 ? weights[i] / median_weight : 0;
      scores[i] *= std::min(by_claim, std::max(by_norm, std::min(1.0, by_norm / kFullEffortNorm)));
    }
    return scores;
  }

};

class LooScorer final : public ContributionScorer {
 public:
  std::string name() const override { return "loo"; }
  bool needs_validation() const override { return true; }
  std::int64_t last_evaluations() const override { return evaluations_; }
  Result<std::vector<double>> score(const ScoringInput& in) override {
    FL_RETURN_IF_ERROR(require_validation(in, name()));
    SubsetUtility utility(in);
    SubsetUtility::Coalition all(in.global_before.size());
    for (std::size_t i = 0; i < in.updates.size(); ++i) utility.add(all, i);
    FL_ASSIGN_OR_RETURN(const double full, utility.of(all));
    std::vector<double> scores;
    for (std::size_t i = 0; i < in.updates.size(); ++i) {
      FL_ASSIGN_OR_RETURN(const double without, utility.of(utility.without(all, i)));
      scores.push_back(std::max(0.0, full - without));
    }
    evaluations_ = utility.evaluations();
    return scores;
  }

 private:
  std::int64_t evaluations_ = 0;
};

// GTG-Shapley (Liu et al. 2022, "GTG-Shapley: Efficient and Accurate Participant Contribution
// Evaluation in Federated Learning"): Monte-Carlo permutations of the round's updates, guided so
// that each update leads one permutation per cycle; between-round truncation (a round whose
// full aggregate moves validation accuracy by less than kRoundTruncation pays no one) and
// within-round truncation (once a prefix is within kPrefixTruncation of the full aggregate, the
// remaining marginals are 0). Converged when, after a full cycle, the estimates moved by less
// than kConvergence of their total magnitude since the cycle before; at most kMaxCycles cycles.
// When all 2^n coalitions cost no more than kMaxCycles x n permutations of n steps (n <= 9),
// the values are computed exactly instead.
class GtgShapleyScorer final : public ContributionScorer {
 public:
  static constexpr double kRoundTruncation = 1e-3;
  static constexpr double kPrefixTruncation = 1e-3;
  static constexpr double kConvergence = 0.05;
  static constexpr int kMaxCycles = 10;

  std::string name() const override { return "gtg_shapley"; }
  bool needs_validation() const override { return true; }
  std::int64_t last_evaluations() const override { return evaluations_; }

  Result<std::vector<double>> score(const ScoringInput& in) override {
    FL_RETURN_IF_ERROR(require_validation(in, name()));
    const std::size_t n = in.updates.size();
    SubsetUtility utility(in);
    FL_ASSIGN_OR_RETURN(const double before, utility.of({}));
    std::vector<std::size_t> all(n);
    std::iota(all.begin(), all.end(), 0);
    FL_ASSIGN_OR_RETURN(const double full, utility.of(all));
    std::vector<double> sv(n, 0.0);
    if (std::abs(full - before) < kRoundTruncation) {
      evaluations_ = utility.evaluations();
      return sv;
    }
    // Few enough updates that every coalition costs no more than the sampling's budget (n <= 9):
    // the exact values of the same utility, with no sampling error.
    if ((std::size_t{1} << std::min<std::size_t>(n, 30)) <= static_cast<std::size_t>(kMaxCycles) * n * n) {
      FL_ASSIGN_OR_RETURN(sv, exact_shapley(n, [&](std::span<const std::size_t> members) {
                            return utility.of({members.begin(), members.end()});
                          }));
      evaluations_ = utility.evaluations();
      for (auto& v : sv) v = std::max(0.0, v);
      return sv;
    }
    std::mt19937_64 rng(0x5eed5eedULL + in.round);
    std::vector<double> previous_cycle(n, 0.0);
    std::int64_t permutations = 0;
    for (int cycle = 0; cycle < kMaxCycles; ++cycle) {
      for (std::size_t lead = 0; lead < n; ++lead) {
        std::vector<std::size_t> order;
        order.push_back(lead);
        for (std::size_t i = 0; i < n; ++i) {
          if (i != lead) order.push_back(i);
        }
        std::shuffle(order.begin() + 1, order.end(), rng);
        ++permutations;
        double prev = before;
        SubsetUtility::Coalition prefix(in.global_before.size());
        for (auto i : order) {
          double marginal = 0;
          if (std::abs(full - prev) >= kPrefixTruncation) {
            utility.add(prefix, i);  // past the truncation the prefix is not needed again
            FL_ASSIGN_OR_RETURN(const double now, utility.of(prefix));
            marginal = now - prev;
            prev = now;
          }
          sv[i] += (marginal - sv[i]) / static_cast<double>(permutations);
        }
      }
      double moved = 0, size = 0;
      for (std::size_t i = 0; i < n; ++i) {
        moved += std::abs(sv[i] - previous_cycle[i]);
        size += std::abs(sv[i]);
      }
      if (cycle > 0 && moved <= kConvergence * size) break;
      previous_cycle = sv;
    }
    evaluations_ = utility.evaluations();
    for (auto& v : sv) v = std::max(0.0, v);
    return sv;
  }

 private:
  std::int64_t evaluations_ = 0;
};

}  // namespace

std::unique_ptr<ContributionScorer> make_fltrust_scorer() { return std::make_unique<FltrustScorer>(); }
std::unique_ptr<ContributionScorer> make_loo_scorer() { return std::make_unique<LooScorer>(); }
std::unique_ptr<ContributionScorer> make_gtg_shapley_scorer() {
  return std::make_unique<GtgShapleyScorer>();
}

}  // namespace fl::coordinator
