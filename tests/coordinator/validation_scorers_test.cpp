// The scorers that measure against the coordinator's validation set (contribution.hpp): FLTrust,
// leave-one-out and GTG-Shapley, on a validation "set" whose utility is a known smooth function
// of the model (loss |params - target|^2, accuracy 1 / (1 + loss)), so exact Shapley values
// can be enumerated and compared. The torch validation set itself is tested in model_host_test.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <numeric>
#include <optional>
#include <random>

#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/scoring/shapley.hpp"

namespace fl::coordinator {
namespace {

constexpr std::size_t kDim = 50;

class TargetOracle final : public ValidationOracle {
 public:
  explicit TargetOracle(std::vector<float> target) : target_(std::move(target)) {}
  std::int64_t size() const override { return 100; }
  Result<ValidationMetrics> measure(std::span<const float> p) override {
    double d = 0;
    for (std::size_t k = 0; k < p.size(); ++k) d += (p[k] - target_[k]) * (p[k] - target_[k]);
    ++calls;
    return ValidationMetrics{1 / (1 + d), d};
  }
  Result<std::vector<float>> reference_update(std::span<const float> global, std::uint64_t) override {
    std::vector<float> r(global.size());
    for (std::size_t k = 0; k < r.size(); ++k) r[k] = 0.5f * (target_[k] - global[k]);
    return r;
  }
  int calls = 0;

 private:
  std::vector<float> target_;
};

struct Federation {
  std::vector<float> global = std::vector<float>(kDim, 0.0f);
  std::vector<float> target;
  std::vector<std::vector<float>> updates;
  std::vector<std::span<const float>> spans;
  std::vector<std::uint64_t> samples;
  std::vector<float> mean;

  // Worker i moves quality[i] of the way to the target, plus its own noise.
  explicit Federation(std::vector<double> quality) {
    std::mt19937_64 rng(5);
    std::normal_distribution<float> n(0.0f, 1.0f);
    for (std::size_t k = 0; k < kDim; ++k) target.push_back(n(rng) * 0.3f);
    for (double q : quality) {
      std::vector<float> u(kDim);
      for (std::size_t k = 0; k < kDim; ++k) u[k] = static_cast<float>(q) * target[k] + 0.02f * n(rng);
      updates.push_back(std::move(u));
    }
    spans.assign(updates.begin(), updates.end());
    samples.assign(updates.size(), 100);
    mean.assign(kDim, 0.0f);
    for (const auto& u : updates) {
      for (std::size_t k = 0; k < kDim; ++k) mean[k] += u[k] / static_cast<float>(updates.size());
    }
  }
  ScoringInput input(ValidationOracle* oracle) const {
    ScoringInput in{spans, samples, mean, global};
    in.round = 4;
    in.validation = oracle;
    return in;
  }
};

std::vector<double> score_with(const std::string& spec, const Federation& f, ValidationOracle* oracle) {
  auto scorer = make_scorer(spec);
  EXPECT_TRUE(scorer.ok());
  auto scores = (*scorer)->score(f.input(oracle));
  EXPECT_TRUE(scores.ok()) << scores.error().message;
  return scores.ok() ? *scores : std::vector<double>{};
}

TEST(ValidationScorers, NeedTheValidationSetAndSaySo) {
  const Federation f({0.5, 0.5});
  for (const char* spec : {"fltrust", "loo", "gtg_shapley", "output_shapley"}) {
    auto scorer = make_scorer(spec);
    ASSERT_TRUE(scorer.ok()) << spec;
    EXPECT_TRUE((*scorer)->needs_validation());
    auto refused = (*scorer)->score(f.input(nullptr));
    ASSERT_FALSE(refused.ok()) << spec;
    EXPECT_NE(refused.error().message.find("validation_samples"), std::string::npos) << refused.error().message;
  }
}

TEST(ValidationScorers, FltrustPaysTheUpdatesAlongTheCoordinatorsReferenceNotTheConsensus) {
  // Four workers agree on a wrong direction; one moves toward the target. The cosine with the
  // aggregate pays the majority, FLTrust pays the one that helps.
  Federation f({0.5});
  std::mt19937_64 rng(9);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> wrong(kDim);
  for (auto& x : wrong) x = 0.1f * n(rng);  // about as long as the helpful update
  for (int i = 0; i < 4; ++i) f.updates.push_back(wrong);
  f.spans.assign(f.updates.begin(), f.updates.end());
  f.samples.assign(f.updates.size(), 100);
  f.mean.assign(kDim, 0.0f);
  for (const auto& u : f.updates) {
    for (std::size_t k = 0; k < kDim; ++k) f.mean[k] += u[k] / 5;
  }
  TargetOracle oracle(f.target);
  const auto trust = score_with("fltrust", f, &oracle);
  const auto cosine = score_with("cosine", f, &oracle);
  EXPECT_GT(trust[0], 3 * trust[1]);
  EXPECT_GT(cosine[1], cosine[0]);
}

TEST(ValidationScorers, FltrustPaysEffortLazyLessAndScaledOrInflatedNoMoreThanHonest) {
  // Four honest workers, then a lazy one (a tenth of the norm), one scaled x3, one claiming
  // twice the median (capped) with an ordinary norm, a rich one (twice the claim, 3x norm), and
  // one of 0.6x the median norm, full effort, and the same scaled x3.
  Federation f({0.5, 0.5, 0.5, 0.5});
  const auto honest = f.updates[0];
  auto scaled_copy = [&](float k) {
    std::vector<float> u = honest;
    for (auto& x : u) x *= k;
    return u;
  };
  f.updates.push_back(scaled_copy(0.1f));
  f.updates.push_back(scaled_copy(3.0f));
  f.updates.push_back(honest);
  f.updates.push_back(scaled_copy(3.0f));
  f.updates.push_back(scaled_copy(0.6f));
  f.updates.push_back(scaled_copy(1.8f));
  f.spans.assign(f.updates.begin(), f.updates.end());
  f.samples.assign(f.updates.size(), 100);
  const std::vector<double> weights{100, 100, 100, 100, 100, 100, 200, 200, 100, 100};
  TargetOracle oracle(f.target);
  auto scorer = make_scorer("fltrust");
  auto in = f.input(&oracle);
  in.weights = weights;
  auto scores = (*scorer)->score(in);
  ASSERT_TRUE(scores.ok());
  const auto& s = *scores;
  EXPECT_NEAR(s[4] / s[0], 0.1 / 0.5, 0.02);  // lazy: in proportion below half the median norm
  EXPECT_NEAR(s[5] / s[0], 1.0, 0.01);  // scaled: no more than honest
  EXPECT_NEAR(s[6] / s[0], 1.0, 0.01);  // inflated claim, ordinary work
  EXPECT_NEAR(s[7] / s[0], 2.0, 0.01) << s[7] << " " << s[0];  // more data: up to the claim cap
  EXPECT_NEAR(s[8] / s[0], 1.0, 0.01);  // a shorter honest update did its share
  EXPECT_NEAR(s[9] / s[0], 1.0, 0.01);  // and scaling it up earns it nothing more
}

TEST(ValidationScorers, LeaveOneOutRanksBetterUpdatesHigher) {
  const Federation f({0.1, 0.4, 0.8});
  TargetOracle oracle(f.target);
  const auto loo = score_with("loo", f, &oracle);
  ASSERT_EQ(loo.size(), 3u);
  EXPECT_LT(loo[0], loo[2]);
  EXPECT_EQ(oracle.calls, 4);  // the full round and each one left out
}

// Exact values of the scorers' game: U(S) = minus the loss of global + fedavg(S).
std::vector<double> exact_values(const Federation& f, TargetOracle& oracle) {
  auto exact = exact_shapley(f.updates.size(), [&](std::span<const std::size_t> members) -> Result<double> {
    std::vector<float> model = f.global;
    for (auto i : members) {
      for (std::size_t k = 0; k < kDim; ++k) model[k] += f.updates[i][k] / static_cast<float>(members.size());
    }
    FL_ASSIGN_OR_RETURN(auto m, oracle.measure(model));
    return -m.loss;
  });
  EXPECT_TRUE(exact.ok());
  return exact.ok() ? *exact : std::vector<double>{};
}

TEST(ValidationScorers, GtgShapleyWithFewUpdatesComputesTheExactValues) {
  const Federation f({0.05, 0.2, 0.4, 0.6, 0.9});
  TargetOracle oracle(f.target);
  const auto estimate = score_with("gtg_shapley", f, &oracle);
  EXPECT_EQ(oracle.calls, 32);  // every coalition once (2^5 <= 10 cycles x 5 permutations x 5)
  const auto exact = exact_values(f, oracle);
  ASSERT_EQ(estimate.size(), 5u);
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(estimate[i], std::max(0.0, exact[i]), 1e-6) << i;  // float models
}

TEST(ValidationScorers, GtgShapleySamplesPermutationsCloseToTheExactValues) {
  // 12 updates: 4096 coalitions, more than the sampling's 10 cycles x 12 x 12 evaluations.
  const Federation f({0.05, 0.1, 0.2, 0.3, 0.35, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0});
  TargetOracle oracle(f.target);
  const auto estimate = score_with("gtg_shapley", f, &oracle);
  EXPECT_LE(oracle.calls, 10 * 12 * 12 + 2);
  const auto exact = exact_values(f, oracle);
  ASSERT_EQ(estimate.size(), 12u);
  double scale = 0;
  for (double v : exact) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < 12; ++i) EXPECT_NEAR(estimate[i], std::max(0.0, exact[i]), 0.1 * scale) << i;
  EXPECT_GT(spearman(estimate, exact), 0.8);
}

TEST(ValidationScorers, GtgShapleyPaysNoOneInARoundThatChangesNothing) {
  Federation f({0.0, 0.0, 0.0});
  for (auto& u : f.updates) std::fill(u.begin(), u.end(), 0.0f);
  TargetOracle oracle(f.target);
  const auto sv = score_with("gtg_shapley", f, &oracle);
  for (double v : sv) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(oracle.calls, 2);  // the model before and after: truncated, no permutation sampled
}

// A validation "set" of linear classifiers: example e's logits are A_e x parameters (3 classes),
// labelled with the class the target parameters give it, so a step toward the target helps.
class LinearOutputsOracle final : public ValidationOracle {
 public:
  static constexpr std::int64_t kExamples = 300, kClasses = 3;
  explicit LinearOutputsOracle(std::vector<float> target) : target_(std::move(target)) {
    std::mt19937_64 rng(21);
    std::normal_distribution<float> n(0.0f, 1.0f);
    a_.resize(static_cast<std::size_t>(kExamples * kClasses) * kDim);
    for (auto& x : a_) x = n(rng);
    for (std::int64_t e = 0; e < kExamples; ++e) labels_.push_back(argmax(logits(target_, e)));
  }
  std::int64_t size() const override { return kExamples; }
  Result<ValidationMetrics> measure(std::span<const float> p) override {
    double right = 0;
    for (std::int64_t e = 0; e < kExamples; ++e) right += argmax(logits(p, e)) == labels_[static_cast<std::size_t>(e)];
    return ValidationMetrics{right / kExamples, 0};
  }
  Result<std::vector<float>> reference_update(std::span<const float> g, std::uint64_t) override {
    std::vector<float> r(g.size());
    for (std::size_t k = 0; k < r.size(); ++k) r[k] = 0.5f * (target_[k] - g[k]);
    return r;
  }
  Result<ValidationOutputs> outputs(std::span<const float> g, std::span<const std::span<const float>> updates,
                                    double step, std::int64_t examples,
                                    std::optional<std::uint64_t> reference_round) override {
    ValidationOutputs out;
    if (reference_round) out.reference = *reference_update(g, *reference_round);
    out.examples = std::min(examples, kExamples);
    out.classes = kClasses;
    out.labels.assign(labels_.begin(), labels_.begin() + out.examples);
    for (std::int64_t e = 0; e < out.examples; ++e) {
      for (float z : logits(g, e)) out.base.push_back(z);
    }
    for (auto u : updates) {
      std::vector<float> p(g.begin(), g.end()), change;
      for (std::size_t k = 0; k < p.size(); ++k) p[k] += static_cast<float>(step) * u[k];
      for (std::int64_t e = 0; e < out.examples; ++e) {
        const auto z = logits(p, e), z0 = logits(g, e);
        for (std::int64_t c = 0; c < kClasses; ++c) change.push_back(z[c] - z0[c]);
      }
      out.changes.push_back(std::move(change));
    }
    ++output_calls;
    return out;
  }
  int output_calls = 0;

 private:
  std::vector<float> logits(std::span<const float> p, std::int64_t e) const {
    std::vector<float> z(kClasses, 0.0f);
    for (std::int64_t c = 0; c < kClasses; ++c) {
      const float* row = a_.data() + static_cast<std::size_t>(e * kClasses + c) * kDim;
      for (std::size_t k = 0; k < kDim; ++k) z[c] += row[k] * p[k];
    }
    return z;
  }
  static std::int64_t argmax(const std::vector<float>& z) {
    return std::max_element(z.begin(), z.end()) - z.begin();
  }
  std::vector<float> target_, a_;
  std::vector<std::int64_t> labels_;
};

TEST(OutputShapley, PaysTheUpdatesThatMakeTheValidationSetRightInOrderOfHowMuch) {
  const Federation f({0.02, 0.1, 0.3, 0.6, 0.9});
  LinearOutputsOracle oracle(f.target);
  const auto scores = score_with("output_shapley", f, &oracle);
  ASSERT_EQ(scores.size(), 5u);
  EXPECT_EQ(oracle.output_calls, 1);  // one forward pass per update, all coalitions from them
  EXPECT_GT(spearman(scores, std::vector<double>{0.02, 0.1, 0.3, 0.6, 0.9}), 0.8);
  EXPECT_GT(scores[4], scores[0]);
  // A validation set without per-example outputs is refused with the reason.
  TargetOracle no_outputs(f.target);
  auto scorer = make_scorer("output_shapley");
  auto refused = (*scorer)->score(f.input(&no_outputs));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("per-example outputs"), std::string::npos) << refused.error().message;
}

TEST(OutputShapley, ARoundThatChangesNoPredictionIsSplitByTheLossGame) {
  // The global model already classifies all 300 examples right, so no step can raise the
  // accuracy: every accuracy marginal is 0. The loss still falls, more for the longer steps
  // toward the target, so the round is split by the loss game.
  Federation f({0.0, 0.0, 0.0});
  for (std::size_t k = 0; k < kDim; ++k) f.global[k] = 0.5f * f.target[k];
  const std::vector<float> q{0.05f, 0.1f, 0.2f};
  for (std::size_t i = 0; i < 3; ++i) {
    for (std::size_t k = 0; k < kDim; ++k) f.updates[i][k] = q[i] * f.target[k];
  }
  LinearOutputsOracle oracle(f.target);
  ASSERT_EQ(oracle.measure(f.global)->accuracy, 1.0);
  const auto scores = score_with("output_shapley", f, &oracle);
  ASSERT_EQ(scores.size(), 3u);
  EXPECT_GT(scores[1], 0);
  EXPECT_GT(scores[2], scores[1]);
  EXPECT_GT(scores[2], scores[0]);
}

// A game of random outputs: 40 examples, 4 classes, labels and changes at random.
ValidationOutputs random_outputs(std::size_t players, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, 1.0f);
  ValidationOutputs o;
  o.examples = 40;
  o.classes = 4;
  for (int e = 0; e < 40; ++e) o.labels.push_back(static_cast<std::int64_t>(rng() % 4));
  for (int k = 0; k < 160; ++k) o.base.push_back(n(rng));
  for (std::size_t i = 0; i < players; ++i) {
    std::vector<float> c;
    for (int k = 0; k < 160; ++k) c.push_back(2.0f * n(rng));
    o.changes.push_back(std::move(c));
  }
  return o;
}

// The game's value straight from its definition: accuracy of base + weighted mean change.
double output_value(const ValidationOutputs& o, std::span<const double> w, std::span<const std::size_t> members) {
  double total = 0;
  for (auto i : members) total += w[i];
  int right = 0;
  for (std::int64_t e = 0; e < o.examples; ++e) {
    std::int64_t best = 0;
    double top = -1e300;
    for (std::int64_t c = 0; c < o.classes; ++c) {
      double z = o.base[static_cast<std::size_t>(e * o.classes + c)];
      for (auto i : members) z += w[i] * o.changes[i][static_cast<std::size_t>(e * o.classes + c)] / total;
      if (z > top) top = z, best = c;
    }
    right += best == o.labels[static_cast<std::size_t>(e)];
  }
  return static_cast<double>(right) / static_cast<double>(o.examples);
}

TEST(OutputGame, ExactValuesAreTheShapleyValuesOfTheValidationAccuracyOfMeanOutputs) {
  const auto o = random_outputs(6, 1);
  const std::vector<double> w{1, 2, 1, 0.5, 1, 3};
  OutputGame game(o, w);
  std::int64_t evaluations = 0;
  auto phi = output_game_shapley(game, 1, evaluations);
  ASSERT_TRUE(phi.ok()) << phi.error().message;
  EXPECT_EQ(evaluations, 64);  // every coalition once, in Gray-code order
  auto direct = exact_shapley(6, [&](std::span<const std::size_t> m) -> Result<double> { return output_value(o, w, m); });
  ASSERT_TRUE(direct.ok());
  for (std::size_t i = 0; i < 6; ++i) EXPECT_NEAR((*phi)[i], (*direct)[i], 1e-9) << i;
  const std::vector<std::size_t> all{0, 1, 2, 3, 4, 5};
  EXPECT_NEAR(std::accumulate(phi->begin(), phi->end(), 0.0), output_value(o, w, all) - output_value(o, w, {}), 1e-9);
}

TEST(OutputGame, ManyUpdatesAreSampledCloseToTheExactValues) {
  // 12 players: 4,096 coalitions, past the 10 x 12^2 sampling budget, so GTG permutations.
  auto o = random_outputs(12, 2);
  for (std::size_t i = 0; i < 12; ++i) {
    for (std::size_t k = 0; k < o.base.size(); ++k) {  // player i is right on more examples
      const auto e = k / 4, c = k % 4;
      if (static_cast<std::int64_t>(c) == o.labels[e] && e % 12 <= i) o.changes[i][k] += 6.0f;
    }
  }
  OutputGame game(o, {});
  std::int64_t evaluations = 0;
  auto phi = output_game_shapley(game, 9, evaluations);
  ASSERT_TRUE(phi.ok());
  EXPECT_LE(evaluations, 10 * 12 * 12 + 2);
  const std::vector<double> equal(12, 1.0);
  auto direct = exact_shapley(12, [&](std::span<const std::size_t> m) -> Result<double> { return output_value(o, equal, m); });
  ASSERT_TRUE(direct.ok());
  EXPECT_GT(spearman(*phi, *direct), 0.8);
  double scale = 0;
  for (double v : *direct) scale = std::max(scale, std::abs(v));
  for (std::size_t i = 0; i < 12; ++i) EXPECT_NEAR((*phi)[i], (*direct)[i], 0.25 * scale) << i;
}

TEST(OutputGame, RefusesOutputsOfTheWrongShapeAndPaysNoOneWhenNothingChanges) {
  auto o = random_outputs(3, 3);
  o.changes[1].pop_back();
  std::int64_t evaluations = 0;
  auto refused = output_game_shapley(OutputGame(o, {}), 1, evaluations);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("do not match"), std::string::npos);
  auto still = random_outputs(3, 3);
  for (auto& c : still.changes) std::fill(c.begin(), c.end(), 0.0f);
  auto none = output_game_shapley(OutputGame(still, {}), 1, evaluations);
  ASSERT_TRUE(none.ok());
  for (double v : *none) EXPECT_EQ(v, 0.0);
  EXPECT_EQ(evaluations, 2);  // before and after: the round is truncated
}

TEST(ExactShapley, AnAdditiveGameGivesEachPlayerItsOwnValue) {
  const std::vector<double> own{1, 2, 3, 4};
  auto phi = exact_shapley(4, [&](std::span<const std::size_t> m) -> Result<double> {
    double v = 0;
    for (auto i : m) v += own[i];
    return v;
  });
  ASSERT_TRUE(phi.ok());
  for (std::size_t i = 0; i < 4; ++i) EXPECT_NEAR((*phi)[i], own[i], 1e-12);
  EXPECT_FALSE(exact_shapley(21, [](std::span<const std::size_t>) -> Result<double> { return 0.0; }).ok());
}

TEST(ExactShapley, SpearmanHandlesTiesAndReversal) {
  EXPECT_NEAR(spearman(std::vector<double>{1, 2, 3}, std::vector<double>{3, 2, 1}), -1, 1e-12);
  EXPECT_NEAR(spearman(std::vector<double>{1, 1, 2}, std::vector<double>{0, 0, 5}), 1, 1e-12);
  EXPECT_EQ(spearman(std::vector<double>{1, 1}, std::vector<double>{0, 5}), 0);
}

}  // namespace
}  // namespace fl::coordinator
