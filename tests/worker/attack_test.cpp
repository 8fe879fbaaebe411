// The research-mode strategies a worker can mount (fl-worker --attack): what each sends and
// what it claims. The free riders are what the incentive defences must pay nothing.
#include "fl/worker/attack.hpp"

#include <gtest/gtest.h>

#include <cmath>

namespace fl::worker {
namespace {

AttackOptions strategy(std::string_view name) {
  AttackOptions a;
  a.kind = *parse_attack(name);
  a.sigma = 1e-2;
  a.seed = 7;
  return a;
}

TEST(WorkerAttack, ParsesEveryStrategyAndNamesThemWhenOneIsUnknown) {
  for (std::string_view name : {"none", "label_flip", "sign_flip", "gaussian", "scaled", "zero", "noise",
                                "replay_global", "replay_noise", "lazy", "inflate_samples"}) {
    auto kind = parse_attack(name);
    ASSERT_TRUE(kind.ok()) << name;
    EXPECT_EQ(to_string(*kind), name);
  }
  auto bad = parse_attack("freeload");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("replay_global"), std::string::npos) << bad.error().message;
}

TEST(WorkerAttack, FreeRidersDoNotTrainAndClaimAnHonestCount) {
  for (std::string_view name : {"zero", "noise", "replay_global", "replay_noise"}) {
    const auto a = strategy(name);
    EXPECT_FALSE(attack_trains(a.kind)) << name;
    EXPECT_EQ(claimed_samples(a, 0, 600), 600u) << name;
  }
  EXPECT_TRUE(attack_trains(AttackKind::kLazy));
  EXPECT_TRUE(attack_trains(AttackKind::kNone));
}

TEST(WorkerAttack, ReplayGlobalSendsTheLastGlobalChange) {
  const std::vector<float> previous{1, 2, 3}, global{1.5f, 1, 3};
  const auto delta = free_rider_update(strategy("replay_global"), 2, global, previous);
  EXPECT_EQ(delta, (std::vector<float>{0.5f, -1, 0}));
  // Before it has seen two models it has nothing to replay.
  EXPECT_EQ(free_rider_update(strategy("replay_global"), 1, global, {}), std::vector<float>(3, 0.0f));
}

TEST(WorkerAttack, NoiseAndReplayNoiseAddSeededNoiseOfTheGivenSigma) {
  const std::vector<float> zeros(10000, 0.0f);
  const auto noise = free_rider_update(strategy("noise"), 3, zeros, zeros);
  double sum_sq = 0;
  for (float v : noise) sum_sq += double(v) * v;
  EXPECT_NEAR(std::sqrt(sum_sq / noise.size()), 1e-2, 1e-3);
  EXPECT_EQ(noise, free_rider_update(strategy("noise"), 3, zeros, zeros));  // reproducible
  EXPECT_NE(noise, free_rider_update(strategy("noise"), 4, zeros, zeros));  // a new draw a round
  const std::vector<float> previous(10000, -1.0f);
  const auto replay = free_rider_update(strategy("replay_noise"), 3, zeros, previous);
  EXPECT_NEAR(replay[0], 1.0f + noise[0], 1e-6);
  EXPECT_EQ(free_rider_update(strategy("zero"), 3, zeros, previous), zeros);
}

TEST(WorkerAttack, LazyTrainsOnAFractionAndClaimsItAll) {
  auto lazy = strategy("lazy");
  EXPECT_EQ(trained_examples(lazy, 6000), 60u);
  EXPECT_EQ(trained_examples(lazy, 10), 1u);  // at least one
  EXPECT_EQ(claimed_samples(lazy, 60, 6000), 6000u);
  EXPECT_EQ(trained_examples(strategy("none"), 6000), 6000u);
  EXPECT_EQ(claimed_samples(strategy("none"), 6000, 6000), 6000u);
}

TEST(WorkerAttack, InflateSamplesClaimsTheGivenCount) {
  auto inflate = strategy("inflate_samples");
  inflate.claimed_samples = 1'000'000;
  EXPECT_TRUE(attack_trains(inflate.kind));
  EXPECT_EQ(claimed_samples(inflate, 600, 600), 1'000'000u);
}

}  // namespace
}  // namespace fl::worker
