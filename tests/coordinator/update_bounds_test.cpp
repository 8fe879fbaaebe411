#include "fl/coordinator/update_bounds.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/round.hpp"
#include "fl/ledger/rewards.hpp"
#include "../../coordinator/src/round_validation.hpp"

namespace fl::coordinator {
namespace {

Result<CloseSettings> read(const std::string& body) {
  auto cfg = common::ConfigTable::parse_text("[aggregation]\n" + body, "job.toml");
  if (!cfg.ok()) return cfg.error();
  auto section = cfg->section("aggregation");
  if (!section.ok()) return section.error();
  CloseSettings s;
  FL_RETURN_IF_ERROR(read_close_settings(*section, s));
  return s;
}

TEST(UpdateBounds, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(median({3, 1, 2}), 2);
  EXPECT_DOUBLE_EQ(median({4, 1, 3, 2}), 2.5);
  EXPECT_DOUBLE_EQ(median({}), 0);
}

TEST(UpdateBounds, CappedWeightsHoldAnInflatedClaimAtTwiceTheMedian) {
  const std::vector<std::uint64_t> claims{100, 120, 1'000'000, 90, 110};
  const auto w = bounded_weights(claims, {}, {SampleWeighting::kCapped, 2, 3});
  ASSERT_EQ(w.size(), 5u);
  EXPECT_DOUBLE_EQ(w[0], 100);
  EXPECT_DOUBLE_EQ(w[2], 220);  // 2 x median (110)
  EXPECT_DOUBLE_EQ(w[3], 90);
}

TEST(UpdateBounds, BackedWeightsCountAClaimAboveTheMedianOnlyAsFarAsTheUpdatesNormGrows) {
  // Claims 100..120 with ordinary norms; an inflated claim with an ordinary norm; real extra
  // data (a longer update) up to the cap; a claim below the median is taken as it is.
  const std::vector<std::uint64_t> claims{100, 120, 1'000'000, 90, 110, 1'000'000, 50};
  const std::vector<double> norms{1.0, 1.1, 1.0, 0.9, 1.0, 1.5, 0.2};
  const auto w = bounded_weights(claims, norms, UpdateBounds{});
  ASSERT_EQ(w.size(), 7u);
  const double m = 110;  // median claim; median norm 1.0
  EXPECT_DOUBLE_EQ(w[0], 100);
  EXPECT_DOUBLE_EQ(w[1], 120);       // above the median, backed by a 1.1x norm (121 >= 120)
  EXPECT_DOUBLE_EQ(w[2], m);         // inflated, ordinary norm: an ordinary weight
  EXPECT_DOUBLE_EQ(w[3], 90);
  EXPECT_DOUBLE_EQ(w[5], 1.5 * m);   // more data, 1.5x the norm: 1.5x, below the 2x cap
  EXPECT_DOUBLE_EQ(w[6], 50);
  // Without norms nothing backs it; under "capped" the claim alone counts, up to the cap.
  EXPECT_DOUBLE_EQ(bounded_weights(claims, {}, UpdateBounds{})[2], m);
  EXPECT_DOUBLE_EQ(bounded_weights(claims, norms, {SampleWeighting::kCapped, 2, 3})[2], 2 * m);
}

TEST(UpdateBounds, EqualWeightsIgnoreClaimsAndClaimedWeightsKeepThem) {
  const std::vector<std::uint64_t> claims{1, 10'000'000};
  EXPECT_EQ(bounded_weights(claims, {}, {SampleWeighting::kEqual, 2, 3}), (std::vector<double>{1, 1}));
  EXPECT_EQ(bounded_weights(claims, {}, {SampleWeighting::kClaimed, 2, 3}), (std::vector<double>{1, 1e7}));
}

TEST(UpdateBounds, NormScalesBringAHugeUpdateDownToTheBound) {
  const std::vector<double> norms{1.0, 1.2, 1e19, 0.8};
  const auto s = norm_scales(norms, {SampleWeighting::kBacked, 2, 3});
  const double bound = 3 * 1.1;  // 3 x median(0.8, 1, 1.2, 1e19)
  EXPECT_DOUBLE_EQ(s[0], 1);
  EXPECT_DOUBLE_EQ(s[1], 1);
  EXPECT_NEAR(s[2] * norms[2], bound, 1e-9);
  EXPECT_DOUBLE_EQ(s[3], 1);
  EXPECT_EQ(norm_scales(norms, {SampleWeighting::kCapped, 2, 0}), (std::vector<double>(4, 1.0)));
  // The default bound is the median norm itself: only the updates longer than it are scaled.
  const auto d = norm_scales(norms, UpdateBounds{});
  EXPECT_DOUBLE_EQ(d[0], 1);
  EXPECT_NEAR(d[1] * norms[1], 1.1, 1e-12);
  EXPECT_NEAR(d[2] * norms[2], 1.1, 1e-9);
  EXPECT_DOUBLE_EQ(d[3], 1);
}

TEST(UpdateBounds, DefaultsAreBoundedAndResearchModeIsNamed) {
  auto s = read("");
  ASSERT_TRUE(s.ok()) << s.error().message;
  EXPECT_EQ(s->bounds.weighting, SampleWeighting::kBacked);
  EXPECT_FALSE(is_research_mode(s->bounds));
  EXPECT_EQ(describe(s->bounds),
            "sample weights capped at 2x the median claim and backed by the update's norm, update norms "
            "bounded at 1x the median");
  auto raw = read("sample_weights = \"claimed\"\nnorm_bound_multiple = 0\n");
  ASSERT_TRUE(raw.ok()) << raw.error().message;
  EXPECT_TRUE(is_research_mode(raw->bounds));
  EXPECT_EQ(describe(raw->bounds), "sample weights claimed, update norms unbounded");
}

TEST(UpdateBounds, AnUnknownWeightingOrABoundBelowOneIsRefusedByName) {
  auto bad = read("sample_weights = \"trusted\"\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("aggregation.sample_weights"), std::string::npos) << bad.error().message;
  EXPECT_NE(bad.error().message.find("\"capped\""), std::string::npos);
  auto low = read("norm_bound_multiple = 0.5\n");
  ASSERT_FALSE(low.ok());
  EXPECT_NE(low.error().message.find("norm_bound_multiple"), std::string::npos);
}

// Round `round` with one update per value vector, 100 samples each, keys 1, 2, ...
CollectedRound collected_of(const std::vector<std::vector<float>>& values, std::uint64_t round = 1) {
  CollectedRound c;
  c.round = round;
  for (std::size_t i = 0; i < values.size(); ++i) {
    ValidatedUpdate u;
    u.header.num_samples = 100;
    u.header.worker_key[0] = static_cast<std::uint8_t>(i + 1);
    u.values = values[i];
    c.accepted.push_back(std::move(u));
  }
  return c;
}

class FixedEvaluator : public ModelEvaluator {
 public:
  Result<EvalMetrics> evaluate(std::span<const float>) override { return EvalMetrics{0.5, 0.9, 10, 0.0}; }
};

// Three honest updates (all 1.0) and one attacker: the "10^7 samples" and "norm 10^19"
// cases under fedavg, which used to destroy the model for good.
struct AttackedRound {
  std::vector<std::vector<float>> values;
  CollectedRound round;
  AttackedRound(float attacker_value, std::uint64_t attacker_samples) {
    values = {std::vector<float>(4, 1.0f), std::vector<float>(4, 1.0f), std::vector<float>(4, 1.0f),
              std::vector<float>(4, attacker_value)};
    for (std::size_t i = 0; i < values.size(); ++i) {
      ValidatedUpdate u;
      u.header.num_samples = i == 3 ? attacker_samples : 100;
      u.values = values[i];
      round.accepted.push_back(std::move(u));
    }
  }
};

TEST(CloseRoundBounds, AnInflatedSampleClaimMovesFedAvgLittle) {
  AttackedRound a(-1.0f, 10'000'000);
  auto fedavg = make_rule("fedavg", RuleOptions{});
  ASSERT_TRUE(fedavg.ok());
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  const std::vector<float> global(4, 0.0f);
  auto closed = close_round(global, a.round, **fedavg, **cosine, evaluator, CloseSettings{});
  ASSERT_TRUE(closed.ok());
  // Its update is no longer than the others', so the claim counts as the median claim (100).
  EXPECT_NEAR(closed->global[0], (3 * 100 - 100) / 400.0, 1e-6);
  CloseSettings raw;
  raw.bounds.weighting = SampleWeighting::kClaimed;
  auto trusted = close_round(global, a.round, **fedavg, **cosine, evaluator, raw);
  ASSERT_TRUE(trusted.ok());
  EXPECT_LT(trusted->global[0], -0.99);  // research mode: the claim takes the average over
}

TEST(CloseRoundBounds, AHugeUpdateIsScaledToTheRoundsNormBound) {
  AttackedRound a(1e18f, 100);  // norm 2e18
  auto fedavg = make_rule("fedavg", RuleOptions{});
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  const std::vector<float> global(4, 0.0f);
  auto closed = close_round(global, a.round, **fedavg, **cosine, evaluator, CloseSettings{});
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->clipped, 1);
  EXPECT_TRUE(std::isfinite(closed->global[0]));
  EXPECT_NEAR(closed->global[0], (3 * 1.0 + 1.0) / 4, 1e-5);  // scaled to the median norm
  EXPECT_FLOAT_EQ(a.values[3][0], 1e18f);                         // the received update is untouched
}

TEST(CloseRoundScreening, AReplayOfTheLastGlobalChangeEarnsNothingAndTheReasonIsKept) {
  // Round 1: four honest workers; round 2: worker 3 sends round 1's global change.
  std::mt19937_64 rng(3);
  std::normal_distribution<float> n(0.0f, 1.0f);
  std::vector<float> shared(64);
  for (auto& x : shared) x = n(rng);
  auto honest = [&] {  // a direction the workers share plus their own part
    std::vector<std::vector<float>> v(4, shared);
    for (auto& u : v) {
      for (auto& x : u) x += n(rng);
    }
    return v;
  };
  auto fedavg = make_rule("fedavg", RuleOptions{});
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  ScreeningHistory history;
  ScoringContext scoring{**cosine, nullptr, &history};
  auto round = [&](std::uint64_t r, const std::vector<std::vector<float>>& values,
                   std::span<const float> global) {
    return close_round(global, collected_of(values, r), **fedavg, scoring, evaluator, CloseSettings{});
  };
  const std::vector<float> start(64, 0.0f);
  const auto first_values = honest();
  auto first = round(1, first_values, start);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->free_riders, 0);
  auto second_values = honest();
  second_values[3].assign(first->global.begin(), first->global.end());  // g1 - g0, g0 = 0
  auto second = round(2, second_values, first->global);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->free_riders, 1);
  EXPECT_EQ(second->scores[3], 0.0);
  EXPECT_NE(second->score_reasons[3].find("replays the global change of round 1"), std::string::npos)
      << second->score_reasons[3];
  EXPECT_TRUE(second->score_reasons[0].empty());
}

// The validation record close_round keeps for the ledger's "no improvement pays a tenth" rule:
// the loss of the previous and the new global model on the coordinator's own validation set.

class DistanceOracle final : public ValidationOracle {
 public:
  std::int64_t size() const override { return 10; }
  Result<ValidationMetrics> measure(std::span<const float> p) override {
    double d = 0;
    for (float x : p) d += (x - 1.0) * (x - 1.0);  // the best model is all ones
    return ValidationMetrics{1 / (1 + d), d};
  }
  Result<std::vector<float>> reference_update(std::span<const float> g, std::uint64_t) override {
    return std::vector<float>(g.size(), 0.1f);
  }
};

TEST(CloseRoundValidation, ARoundAwayFromTheValidationOptimumIsRecordedAsNoImprovement) {
  auto fedavg = make_rule("fedavg", RuleOptions{});
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  DistanceOracle oracle;
  const std::vector<float> global(8, 0.0f);
  auto close = [&](float step) {
    std::vector<std::vector<float>> values(3, std::vector<float>(8, step));
    const auto c = collected_of(values);
    ScoringContext scoring{**cosine, &oracle};
    auto closed = close_round(global, c, **fedavg, scoring, evaluator, CloseSettings{});
    EXPECT_TRUE(closed.ok()) << closed.error().message;
    return validation_record(*closed);
  };
  const auto toward = close(0.5f);
  ASSERT_TRUE(toward.has_value());
  EXPECT_NEAR(toward->loss_before, 8.0, 1e-9);
  EXPECT_TRUE(toward->improved());
  EXPECT_EQ(ledger::improvement_share(toward), 1.0);
  const auto away = close(-0.5f);
  ASSERT_TRUE(away.has_value());
  EXPECT_FALSE(away->improved());
  EXPECT_NEAR(ledger::improvement_share(away), 0.1, 1e-12);
  // Without a validation set nothing is recorded, and the round pays in full.
  EXPECT_EQ(ledger::improvement_share(std::nullopt), 1.0);
}

TEST(CloseRoundValidation, RescaleToReferenceGivesEveryUpdateTheReferenceNorm) {
  auto fedavg = make_rule("fedavg", RuleOptions{});
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  DistanceOracle oracle;  // its reference update is 0.1 in every coordinate
  const std::vector<float> global(8, 0.0f);
  std::vector<std::vector<float>> values{std::vector<float>(8, 1.0f), std::vector<float>(8, 3.0f)};
  const auto c = collected_of(values);
  CloseSettings settings;
  settings.bounds.rescale_to_reference = true;
  ScoringContext scoring{**cosine, &oracle};
  auto closed = close_round(global, c, **fedavg, scoring, evaluator, settings);
  ASSERT_TRUE(closed.ok()) << closed.error().message;
  for (float x : closed->global) EXPECT_NEAR(x, 0.1f, 1e-6);
  ScoringContext without{**cosine};
  auto refused = close_round(global, c, **fedavg, without, evaluator, settings);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("validation set"), std::string::npos) << refused.error().message;
}

}  // namespace
}  // namespace fl::coordinator
