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

// Shapley values of the validation accuracy with coalitions combined in the model's outputs
// (scoring/shapley.hpp, OutputGame): one forward pass of the validation set per update, then
// every coalition is a weighted mean of logit changes, with no further pass. Exact for n <= 9,
// GTG-Shapley's sampling above. Two guards make it a payment, not only a ranking:
// - trust: in a fedavg game, any update that adds little dilutes the others' step, and a small
//   step can be worth more on the validation set, so noise and a noisy replay earned 0.5-3.5x
//   an honest update. Each value is multiplied by min(1, c / the round's median c)^4, with c
//   fltrust's trust, the positive part of the cosine between the update and the coordinator's
//   reference update: an update that points where the coordinator's own training goes as well
//   as the median one keeps its value, one orthogonal to it keeps nothing. The oracle trains
//   the reference alongside the forward passes. (The loss gradient instead, at half the cost,
//   let a noisy replay earn 0.88 of an honest update under nnm+trimmed_mean.)
// - a share cap: no update earns more than kShareCap x the mean of the others' scores, as no
//   claim weighs more than twice the median (a worker with 10x the data earned 7x a poor one
//   uncapped).
// A round in which no update has a positive accuracy value is scored by the loss game instead.
class OutputShapleyScorer final : public ContributionScorer {
 public:
  // The forward passes' budget: at most this many validation examples x passes a round, so a
  // round of n updates reads the first kExamplePasses / (n + 1) examples (all 1,000 up to 6
  // updates, 333 at 20), never fewer than kMinExamples.
  static constexpr std::int64_t kExamplePasses = 7'000;
  static constexpr std::int64_t kMinExamples = 100;
  static constexpr double kShareCap = 3.0;
  static constexpr double kTrustPower = 4.0;

  std::string name() const override { return "output_shapley"; }
  bool needs_validation() const override { return true; }
  std::int64_t last_evaluations() const override { return evaluations_; }
  Result<std::vector<double>> score(const ScoringInput& in) override {
    FL_RETURN_IF_ERROR(require_validation(in, name()));
    const auto passes = static_cast<std::int64_t>(in.updates.size()) + 1;
    const auto examples = std::max<std::int64_t>(kMinExamples, kExamplePasses / passes);
    FL_ASSIGN_OR_RETURN(auto outputs, in.validation->outputs(in.global_before, in.updates, in.server_learning_rate,
                                                             examples, in.round));
    evaluations_ = passes;  // forward passes
    if (outputs.reference.size() != in.aggregate.size()) {
      return make_error(ErrorCode::kInternal, "output_shapley: the reference update has the wrong size");
    }
    std::int64_t coalitions = 0;
    FL_ASSIGN_OR_RETURN(auto phi, output_game_shapley(OutputGame(outputs, in.weights), 0x5eed5eedULL + in.round,
                                                      coalitions));
    // No update changed a prediction for the better (a late round, a small validation set):
    // the loss game still tells the updates apart, so the round's budget, a tenth of it when
    // the loss did not fall either, is split by contribution, not withheld.
    // Loss values are not bounded by 1 as accuracy values are; a round's scores are shares, so
    // they are scaled into [0, 1], where the ledger's audit expects them.
    if (!phi.empty() && std::ranges::none_of(phi, [](double v) { return v > 0; })) {
      FL_ASSIGN_OR_RETURN(phi, output_game_shapley(OutputGame(outputs, in.weights, OutputGame::Utility::kLoss),
                                                   0x5eed5eedULL + in.round, coalitions, 0.0));
      if (const double top = *std::ranges::max_element(phi); top > 1) {
        for (auto& v : phi) v /= top;
      }
    }
    const auto trust = contribution_scores(in.updates, outputs.reference);
    const double median_trust = std::max(median(trust), 1e-12);
    double total = 0;
    for (std::size_t i = 0; i < phi.size(); ++i) {
      const double relative = std::min(1.0, trust[i] / median_trust);
      phi[i] = std::max(0.0, phi[i]) * std::pow(relative, kTrustPower);
      total += phi[i];
    }
    // Each score against the mean of the others' (uncapped) scores; a lone contributor, whose
    // others earn nothing, takes the round.
    std::vector<double> capped = phi;
    for (std::size_t i = 0; phi.size() > 1 && i < phi.size(); ++i) {
      const double others = (total - phi[i]) / static_cast<double>(phi.size() - 1);
      if (others > 0) capped[i] = std::min(phi[i], kShareCap * others);
    }
    return capped;
  }

 private:
  std::int64_t evaluations_ = 0;
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
// within-round truncation (once a prefix is within 1e-3 of the full aggregate, the
// remaining marginals are 0). Converged when, after a full cycle, the estimates moved by less
// than 5% of their total magnitude since the cycle before; at most 10 cycles (GtgSampling's
// defaults). When all 2^n coalitions cost no more than that budget (n <= 9), the values are
// computed exactly instead.
class GtgShapleyScorer final : public ContributionScorer {
 public:
  static constexpr double kRoundTruncation = 1e-3;

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
    const GtgSampling sampling;
    if (exact_within_sampling_budget(n, sampling)) {
      FL_ASSIGN_OR_RETURN(sv, exact_shapley(n, [&](std::span<const std::size_t> members) {
                            return utility.of({members.begin(), members.end()});
                          }));
    } else {
      SubsetUtility::Coalition prefix(in.global_before.size());
      PermutationWalk walk{[&] { prefix = SubsetUtility::Coalition(in.global_before.size()); },
                           [&](std::size_t i) -> Result<double> {
                             utility.add(prefix, i);
                             return utility.of(prefix);
                           }};
      FL_ASSIGN_OR_RETURN(sv, gtg_sampled_shapley(n, before, full, 0x5eed5eedULL + in.round, walk, sampling));
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
std::unique_ptr<ContributionScorer> make_output_shapley_scorer() {
  return std::make_unique<OutputShapleyScorer>();
}
std::unique_ptr<ContributionScorer> make_loo_scorer() { return std::make_unique<LooScorer>(); }
std::unique_ptr<ContributionScorer> make_gtg_shapley_scorer() {
  return std::make_unique<GtgShapleyScorer>();
}

}  // namespace fl::coordinator
