// incentive_rows (coordinator/src/simulation/incentive_report.hpp): each strategy's gain against
// the clean run with the same rule, scorer and partition, and what the honest workers kept.
#include "../../coordinator/src/simulation/incentive_report.hpp"

#include <gtest/gtest.h>

namespace fl::coordinator {
namespace {

SettingResult run(ByzantineAttack attack, int byzantine, std::vector<double> rewards,
                  std::vector<int> strategic, double accuracy = 0.8) {
  SettingResult r;
  r.setting = {"fedavg", attack, byzantine, "dirichlet:1.0", "fltrust"};
  r.rule_name = "fedavg";
  r.scorer = "fltrust";
  r.rewards = std::move(rewards);
  r.strategic = std::move(strategic);
  RoundRecord round;
  round.test_accuracy = accuracy;
  round.seconds = 2;
  round.scoring_seconds = 0.5;
  r.rounds.push_back(round);
  return r;
}

TEST(IncentiveRows, AFreeRiderGainsItsEarningsOverTheSameDatasHonestEarnings) {
  std::vector<SettingResult> results{
      run(ByzantineAttack::kNone, 0, {1, 1, 1}, {}),
      run(ByzantineAttack::kZero, 1, {0.1, 1.45, 1.45}, {0}, 0.79),
  };
  results[1].rounds[0].screened = {0, 2};  // the free rider, and honest worker 2 by mistake
  const auto rows = incentive_rows(results);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].strategy, "zero");
  EXPECT_NEAR(rows[0].gain, 0.1, 1e-12);
  EXPECT_NEAR(rows[0].honest_kept, 1.45, 1e-12);
  EXPECT_NEAR(rows[0].accuracy_delta, -1.0, 1e-9);
  EXPECT_NEAR(rows[0].scoring_share, 0.25, 1e-12);
  EXPECT_EQ(rows[0].free_riders, 1);
  EXPECT_EQ(rows[0].honest_screened, 1);
}

TEST(IncentiveRows, SybilKeysTogetherAreComparedWithWorkerZeroAloneAndRichWithAPoorWorker) {
  const std::vector<SettingResult> results{
      run(ByzantineAttack::kNone, 0, {1, 1, 1}, {}),
      run(ByzantineAttack::kSybil, 1, {0.4, 0.9, 0.9, 0.4, 0.4}, {0, 3, 4}),
      run(ByzantineAttack::kRich, 1, {2.5, 0.5, 1.0}, {0}),
  };
  const auto rows = incentive_rows(results);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_NEAR(rows[0].gain, 1.2, 1e-12);         // 3 keys x 0.4 against 1
  EXPECT_NEAR(rows[0].honest_kept, 0.9, 1e-12);  // workers 1 and 2: 1.8 of 2
  EXPECT_NEAR(rows[1].gain, 2.5 / 0.75, 1e-12);  // rich over the poor workers' mean
}

TEST(IncentiveRows, ARunWithoutACleanCounterpartHasNoRow) {
  const std::vector<SettingResult> results{run(ByzantineAttack::kZero, 1, {0, 1, 1}, {0})};
  EXPECT_TRUE(incentive_rows(results).empty());
}

TEST(ScoringRows, CountRoundsThatPaidATenthAndAverageTheShapleyRankCorrelation) {
  auto r = run(ByzantineAttack::kNone, 0, {1, 1, 1}, {});
  r.rounds[0].shapley_spearman = 0.8;
  r.rounds[0].screened = {1};
  RoundRecord worse;
  worse.budget = 0.1;
  worse.shapley_spearman = 0.2;
  r.rounds.push_back(worse);
  r.rounds.push_back(RoundRecord{});  // no reference this round
  const std::vector<SettingResult> results{r};
  const auto rows = scoring_rows(results);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].rounds, 3);
  EXPECT_EQ(rows[0].no_improvement, 1);
  EXPECT_NEAR(rows[0].paid, 2.1, 1e-12);
  EXPECT_EQ(rows[0].shapley_rounds, 2);
  EXPECT_NEAR(rows[0].spearman_mean, 0.5, 1e-12);
  EXPECT_NEAR(rows[0].spearman_min, 0.2, 1e-12);
  EXPECT_EQ(rows[0].screened, 1);
}

}  // namespace
}  // namespace fl::coordinator
