// Client-level DP in a round (McMahan et al. 2018): clipping bounds every update, the noise on
// the sum has std sigma * C whether the coordinator or the workers add it, a distributed round
// refuses to combine fewer than m updates, a robust rule runs with DP on, and the budget says
// when a job must stop. Statistical checks use fixed seeds and tens of thousands of draws.
#include "fl/coordinator/privacy/client_dp.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "fl/common/dp_noise.hpp"
#include "fl/coordinator/round.hpp"

namespace fl::coordinator {
namespace {

constexpr std::size_t kDims = 40'000;

Result<ClientDpSettings> read(const std::string& body) {
  FL_ASSIGN_OR_RETURN(auto cfg, common::ConfigTable::parse_text("[privacy]\n" + body, "job.toml"));
  FL_ASSIGN_OR_RETURN(auto section, cfg.section("privacy"));
  ClientDpSettings s;
  FL_RETURN_IF_ERROR(read_client_dp_settings(section, 7, s));
  return s;
}

ClientDpSettings central(double clip, double sigma) {
  ClientDpSettings s;
  s.mode = DpPlacement::kCentral;
  s.clip_norm = clip;
  s.noise_multiplier = sigma;
  s.target_epsilon = 8;
  s.seed = 7;
  return s;
}

double l2(std::span<const float> v) {
  double sum = 0;
  for (float x : v) sum += static_cast<double>(x) * x;
  return std::sqrt(sum);
}

double stddev(std::span<const double> v) {
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
  double sq = 0;
  for (double x : v) sq += (x - mean) * (x - mean);
  return std::sqrt(sq / static_cast<double>(v.size() - 1));
}

std::vector<UpdateView> views_of(const std::vector<std::vector<float>>& updates) {
  std::vector<UpdateView> views;
  for (const auto& u : updates) views.push_back({u, 100.0});
  return views;
}

class FixedEvaluator : public ModelEvaluator {
 public:
  Result<EvalMetrics> evaluate(std::span<const float>) override {
    return EvalMetrics{0.5, 0.9, 10, 0.0};
  }
};

// Accepted updates over `values` (which must outlive the round).
CollectedRound collected(const std::vector<std::vector<float>>& values, std::uint64_t round = 1) {
  CollectedRound out;
  out.round = round;
  for (const auto& v : values) {
    ValidatedUpdate u;
    u.header.num_samples = 100;
    u.values = v;
    out.accepted.push_back(std::move(u));
  }
  return out;
}

TEST(ClientDpSettings, ReadsCentralAndDistributedSections) {
  auto c = read("mode = \"central\"\nclip_norm = 2\nnoise_multiplier = 1.1\ntarget_epsilon = 3\n");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->mode, DpPlacement::kCentral);
  EXPECT_EQ(c->clip_norm, 2);
  EXPECT_EQ(c->noise_multiplier, 1.1);
  EXPECT_EQ(c->target_delta, 1e-5);
  EXPECT_EQ(c->seed, 7u);
  auto d =
      read("mode = \"distributed\"\ntarget_epsilon = 3\ntarget_delta = 1e-6\nmin_workers = 5\n");
  ASSERT_TRUE(d.ok()) << d.error().to_string();
  EXPECT_EQ(d->min_workers, 5);
  EXPECT_EQ(task_privacy(*d).min_workers, 5u);
  EXPECT_FALSE(task_privacy(*c).enabled());  // central: workers add nothing
  auto none = read("");
  ASSERT_TRUE(none.ok());
  EXPECT_FALSE(none->enabled());
}

TEST(ClientDpSettings, RefusesAMissingBudgetAMissingMAndKeysWithoutAMode) {
  auto no_budget = read("mode = \"central\"\n");
  ASSERT_FALSE(no_budget.ok());
  EXPECT_NE(no_budget.error().message.find("privacy.target_epsilon is required"),
            std::string::npos);
  auto no_m = read("mode = \"distributed\"\ntarget_epsilon = 3\n");
  ASSERT_FALSE(no_m.ok());
  EXPECT_NE(no_m.error().message.find("privacy.min_workers is required"), std::string::npos);
  auto stray = read("clip_norm = 1\n");
  ASSERT_FALSE(stray.ok());
  EXPECT_NE(stray.error().message.find("privacy.mode is \"none\""), std::string::npos);
  auto typo = read("mode = \"centrl\"\ntarget_epsilon = 3\n");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("\"centrl\""), std::string::npos);
}

TEST(ClientDp, ClippingBoundsEveryUpdatesNormAndWeighsThemEqually) {
  std::vector<std::vector<float>> updates;
  for (int i = 0; i < 6; ++i) updates.emplace_back(100, std::pow(10.0f, static_cast<float>(i - 2)));
  auto views = views_of(updates);
  const auto dp = privatize_updates(central(1.5, 0.0), 1, views);
  ASSERT_TRUE(dp.refusal.empty());
  for (const auto& v : views) {
    EXPECT_LE(l2(v.values), 1.5 * (1 + 1e-6));
    EXPECT_EQ(v.weight, 1.0);
  }
  EXPECT_EQ(dp.clipped, 4);  // norms 0.1 and 1 stay, 10 and above are clipped
  EXPECT_NEAR(l2(views[0].values), 0.1, 1e-6);
  EXPECT_FLOAT_EQ(updates[5][0], 1000.0f);  // the received updates are untouched
}

TEST(ClientDp, CentralNoiseOnTheSumHasStdSigmaTimesC) {
  const double clip = 2.0, sigma = 1.3;
  const std::vector<std::vector<float>> updates(8, std::vector<float>(kDims, 0.0f));
  auto views = views_of(updates);
  const auto dp = privatize_updates(central(clip, sigma), 3, views);
  std::vector<double> sum(kDims, 0.0);
  for (const auto& v : views) {
    for (std::size_t j = 0; j < kDims; ++j) sum[j] += v.values[j];
  }
  // The sample std of 40,000 normal draws is within 1.5% of the truth with overwhelming odds.
  EXPECT_NEAR(stddev(sum), sigma * clip, 0.015 * sigma * clip);
  auto again = views_of(updates);
  const auto same = privatize_updates(central(clip, sigma), 3, again);
  EXPECT_EQ(same.values, dp.values);  // seeded by (job seed, round)
  auto next = views_of(updates);
  EXPECT_NE(privatize_updates(central(clip, sigma), 4, next).values, dp.values);
}

TEST(ClientDp, DistributedSharesAddUpToStdSigmaTimesC) {
  const common::TaskPrivacy task{2.0, 1.3, 4};
  std::vector<double> sum(kDims, 0.0);
  std::vector<double> one;
  for (std::uint64_t w = 0; w < task.min_workers; ++w) {
    std::vector<float> update(kDims, 0.0f);
    common::privatize_local_update(update, task, 1000 + w);
    for (std::size_t j = 0; j < kDims; ++j) sum[j] += update[j];
    if (w == 0) one.assign(update.begin(), update.end());
  }
  EXPECT_NEAR(stddev(one), 1.3 * 2.0 / 2.0, 0.015 * 1.3);  // sigma C / sqrt(m)
  EXPECT_NEAR(stddev(sum), 1.3 * 2.0, 0.015 * 2.6);
}

TEST(ClientDp, AWorkerClipsBeforeAddingItsShare) {
  const common::TaskPrivacy task{1.0, 0.0, 3};
  std::vector<float> update(50, 10.0f);
  common::privatize_local_update(update, task, 1);
  EXPECT_NEAR(l2(update), 1.0, 1e-5);
}

TEST(ClientDp, DistributedRoundRefusesToCloseBelowM) {
  auto settings = central(1.0, 1.0);
  settings.mode = DpPlacement::kDistributed;
  settings.min_workers = 3;
  CloseSettings close;
  close.privacy = settings;
  const std::vector<std::vector<float>> two(2, std::vector<float>(4, 0.1f));
  auto fedavg = make_rule("fedavg", RuleOptions{});
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  const std::vector<float> global(4, 0.5f);
  auto closed = close_round(global, collected(two), **fedavg, **cosine, evaluator, close);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->outcome.rfind("privacy refused: 2 accepted updates", 0), 0u) << closed->outcome;
  EXPECT_EQ(closed->global, global);
  const std::vector<std::vector<float>> three(3, std::vector<float>(4, 0.1f));
  auto enough = close_round(global, collected(three), **fedavg, **cosine, evaluator, close);
  ASSERT_TRUE(enough.ok());
  EXPECT_EQ(enough->outcome, "");
  EXPECT_NEAR(enough->global[0], 0.6, 1e-6);  // the workers' noise is theirs; none added here
}

TEST(ClientDp, DistributedUpdatesAreBoundedByCPlusTheirNoiseShare) {
  auto s = central(1.0, 2.0);
  s.mode = DpPlacement::kDistributed;
  s.min_workers = 4;
  std::vector<std::vector<float>> updates(4, std::vector<float>(kDims, 0.0f));
  for (std::size_t w = 0; w < updates.size(); ++w) {
    common::privatize_local_update(updates[w], task_privacy(s), 50 + w);
  }
  updates[3].assign(kDims, 10.0f);  // an attacker sending norm 2000 without noise
  auto views = views_of(updates);
  const auto dp = privatize_updates(s, 1, views);
  EXPECT_EQ(dp.clipped, 1);  // honest noised updates pass, the attacker is clipped
  for (const auto& v : views)
    EXPECT_LE(l2(v.values), distributed_norm_bound(s, kDims) * (1 + 1e-6));
}

// Trimmed mean keeps its robustness with DP on: the attacker is clipped to C like everyone and
// then trimmed; the result stays near the honest mean, off by the noise only.
TEST(ClientDp, TrimmedMeanWithCentralDpStaysNearTheHonestUpdates) {
  std::vector<std::vector<float>> updates(9, std::vector<float>(1000, 0.02f));  // norm 0.63
  updates[0].assign(1000, -50.0f);
  updates[1].assign(1000, 50.0f);
  CloseSettings close;
  close.privacy = central(1.0, 0.5);
  close.bounds.norm_multiple = 3;  // a bound above C, so DP's clipping still has work to do
  RuleOptions options;
  options.f = 2;
  auto trimmed = make_rule("trimmed_mean", options);
  ASSERT_TRUE(trimmed.ok()) << trimmed.error().to_string();
  auto cosine = make_scorer("cosine");
  FixedEvaluator evaluator;
  const std::vector<float> global(1000, 0.0f);
  auto closed = close_round(global, collected(updates), **trimmed, **cosine, evaluator, close);
  ASSERT_TRUE(closed.ok());
  EXPECT_EQ(closed->outcome, "");
  EXPECT_EQ(closed->clipped, 2);     // to 3x the median norm (1.9) first,
  EXPECT_EQ(closed->dp_clipped, 2);  // then to C
  // Each noised update has per-coordinate noise std 0.5 / 3; trimming 2 of 9 on each side
  // averages five: the error's std is about 0.075, the mean error over 1000 coordinates ~0.003.
  const double mean = std::accumulate(closed->global.begin(), closed->global.end(), 0.0) / 1000;
  EXPECT_NEAR(mean, 0.02, 0.02);
  EXPECT_LT(l2(closed->global), 0.2 * std::sqrt(1000.0));
}

TEST(PrivacyBudget, SaysWhenTheNextRoundWouldExceedTheBudget) {
  auto s = central(1.0, 1.0);
  common::RdpComposition spent;
  auto first = next_round_spend(spent, s, 1, 5, 20);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->sample_rate, 0.25);
  EXPECT_TRUE(first->within_budget);
  s.target_epsilon = first->epsilon * 1.05;  // one round fits, two do not
  ASSERT_TRUE(spent.add_round(first->sample_rate, 1.0).ok());
  auto second = next_round_spend(spent, s, 2, 5, 20);
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(second->within_budget);
  EXPECT_NE(second->reason.find("privacy budget spent: round 2"), std::string::npos)
      << second->reason;
}

}  // namespace
}  // namespace fl::coordinator
