// Free-rider and copy screening (scoring/screening.hpp): what a worker can send without data is
// recognised and earns nothing, and copies from several keys share one reward.
#include "fl/coordinator/scoring/screening.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "fl/coordinator/contribution.hpp"

namespace fl::coordinator {
namespace {

constexpr std::size_t kDim = 4000;

std::vector<float> gaussian(std::uint64_t seed, double sigma = 1.0) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> n(0.0f, static_cast<float>(sigma));
  std::vector<float> v(kDim);
  for (auto& x : v) x = n(rng);
  return v;
}

// Honest updates: a shared direction plus each worker's own part (non-IID).
std::vector<std::vector<float>> honest(int count, double own = 1.0) {
  const auto shared = gaussian(1);
  std::vector<std::vector<float>> out;
  for (int w = 0; w < count; ++w) {
    auto part = gaussian(100 + static_cast<std::uint64_t>(w), own);
    for (std::size_t k = 0; k < kDim; ++k) part[k] += shared[k];
    out.push_back(std::move(part));
  }
  return out;
}

common::PublicKey key(int i) {
  common::PublicKey k{};
  k[0] = static_cast<std::uint8_t>(i + 1);
  return k;
}

Screening screen(const std::vector<std::vector<float>>& updates, const ScreeningHistory& history,
                 const std::vector<std::string>& fingerprints = {}, ScreeningSettings s = {}) {
  std::vector<std::span<const float>> spans(updates.begin(), updates.end());
  std::vector<common::PublicKey> keys;
  for (std::size_t i = 0; i < updates.size(); ++i) keys.push_back(key(static_cast<int>(i)));
  return screen_updates({spans, keys, fingerprints}, history, s);
}

TEST(Screening, HonestNonIidUpdatesPassUntouched) {
  const auto updates = honest(6);
  const auto s = screen(updates, ScreeningHistory{});
  EXPECT_EQ(s.flagged(), 0);
  for (int g : s.copy_group) EXPECT_EQ(g, -1);
}

TEST(Screening, AZeroUpdateEarnsNothingAndSaysWhy) {
  auto updates = honest(5);
  updates.push_back(std::vector<float>(kDim, 0.0f));
  const auto s = screen(updates, ScreeningHistory{});
  EXPECT_EQ(s.flagged(), 1);
  EXPECT_NE(s.reasons[5].find("zero update"), std::string::npos) << s.reasons[5];
}

TEST(Screening, PureNoiseIsRecognisedAgainstTheOthersMean) {
  auto updates = honest(5);
  updates.push_back(gaussian(999, 0.01));
  const auto s = screen(updates, ScreeningHistory{});
  EXPECT_EQ(s.flagged(), 1) << s.reasons[0];
  EXPECT_NE(s.reasons[5].find("noise"), std::string::npos) << s.reasons[5];
}

TEST(Screening, ReplayingTheLastGlobalChangeIsFlaggedWhileHonestUpdatesNearItAreNot) {
  // An IID-like federation: every honest update follows the last global change closely
  // (cosine about 0.9), and the replayer sends that change itself.
  auto updates = honest(5, 0.45);
  std::vector<float> change(kDim);
  for (const auto& u : updates) {
    for (std::size_t k = 0; k < kDim; ++k) change[k] += u[k] / 5;
  }
  ScreeningHistory history;
  std::vector<common::PublicKey> nobody;
  history.record_round(3, change, nobody, {});
  for (const auto& u : updates) EXPECT_GT(cosine_similarity(u, change), 0.85);
  updates.push_back(change);
  const auto s = screen(updates, history);
  EXPECT_EQ(s.flagged(), 1) << s.reasons[0];
  EXPECT_NE(s.reasons[5].find("replays the global change of round 3"), std::string::npos) << s.reasons[5];
}

TEST(Screening, RepeatingItsOwnPreviousUpdateIsFlagged) {
  auto updates = honest(4);
  ScreeningHistory history;
  std::vector<std::span<const float>> spans(updates.begin(), updates.end());
  std::vector<common::PublicKey> keys{key(0), key(1), key(2), key(3)};
  history.record_round(1, gaussian(7), keys, spans);
  auto next = honest(4);
  next[1] = updates[1];  // worker 1 resends its round-1 update
  for (std::size_t w = 0; w < 4; ++w) {
    if (w == 1) continue;
    const auto fresh = gaussian(500 + w);
    for (std::size_t k = 0; k < kDim; ++k) next[w][k] += fresh[k];
  }
  const auto s = screen(next, history);
  EXPECT_EQ(s.flagged(), 1);
  EXPECT_NE(s.reasons[1].find("repeats its own update of round 1"), std::string::npos) << s.reasons[1];
}

TEST(Screening, CopiesFromSeveralKeysShareOneReward) {
  auto updates = honest(5);
  updates.push_back(updates[0]);
  updates.push_back(updates[0]);
  const auto s = screen(updates, ScreeningHistory{});
  EXPECT_EQ(s.flagged(), 0);
  EXPECT_GE(s.copy_group[0], 0);
  EXPECT_EQ(s.copy_group[5], s.copy_group[0]);
  EXPECT_EQ(s.copy_group[6], s.copy_group[0]);
  EXPECT_EQ(s.copy_group[1], -1);
  const std::vector<double> raw{0.9, 0.5, 0.5, 0.5, 0.5, 0.9, 0.9};
  const auto paid = apply_screening(raw, s);
  EXPECT_NEAR(paid[0] + paid[5] + paid[6], 0.9, 1e-12);  // the three keys earn one share
  EXPECT_DOUBLE_EQ(paid[1], 0.5);
}

TEST(Screening, TheSameRegisteredDatasetFingerprintMakesACopyGroup) {
  const auto updates = honest(4);
  const auto s = screen(updates, ScreeningHistory{}, {"a", "b", "a", ""});
  EXPECT_GE(s.copy_group[0], 0);
  EXPECT_EQ(s.copy_group[2], s.copy_group[0]);
  EXPECT_EQ(s.copy_group[1], -1);
  EXPECT_EQ(s.copy_group[3], -1);
}

TEST(Screening, TurnedOffFlagsNothing) {
  auto updates = honest(3);
  updates.push_back(std::vector<float>(kDim, 0.0f));
  ScreeningSettings off;
  off.enabled = false;
  EXPECT_EQ(screen(updates, ScreeningHistory{}, {}, off).flagged(), 0);
}

TEST(Screening, CountSketchCosinesTrackTheTrueCosines) {
  const auto a = gaussian(1), b = gaussian(2);
  std::vector<float> c(kDim);
  for (std::size_t k = 0; k < kDim; ++k) c[k] = a[k] + 0.3f * b[k];
  EXPECT_NEAR(cosine_similarity(count_sketch(a), count_sketch(c)), cosine_similarity(a, c), 0.03);
  EXPECT_NEAR(cosine_similarity(count_sketch(a), count_sketch(b)), cosine_similarity(a, b), 0.1);
  EXPECT_EQ(count_sketch(a).size(), 1024u);
}

TEST(Screening, SettingsAreReadFromTheScoringSection) {
  auto cfg = common::ConfigTable::parse_text(
      "[scoring]\nscreen_free_riders = false\nreplay_cosine = 0.95\nhistory_rounds = 3\n", "job.toml");
  ASSERT_TRUE(cfg.ok());
  auto section = cfg->section("scoring");
  ASSERT_TRUE(section.ok());
  ScreeningSettings s;
  ASSERT_TRUE(read_screening_settings(*section, s).ok());
  EXPECT_FALSE(s.enabled);
  EXPECT_DOUBLE_EQ(s.replay_cosine, 0.95);
  EXPECT_EQ(s.history_rounds, 3);
  auto bad = common::ConfigTable::parse_text("[scoring]\nreplay_cosine = 2\n", "job.toml");
  ASSERT_TRUE(bad.ok());
  auto bad_section = bad->section("scoring");
  ASSERT_TRUE(bad_section.ok());
  auto refused = read_screening_settings(*bad_section, s);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("replay_cosine"), std::string::npos) << refused.error().message;
}

// The last global change replayed under noise many times its size: its cosine with the change
// is low, but besides the change it carries nothing, and what is left is Gaussian. A worker whose
// update mostly follows the last change, with a structured (sparse) remainder of its own, is not
// flagged; neither are the honest workers, who carry this round's shared direction.
TEST(Screening, AReplayHiddenUnderNoiseEarnsNothingButAnUpdateFollowingTheChangeDoes) {
  const auto change = gaussian(7);
  ScreeningHistory history;
  const std::vector<common::PublicKey> nobody;
  history.record_round(3, change, nobody, {});
  auto updates = honest(5);
  for (auto& u : updates) {
    for (std::size_t k = 0; k < kDim; ++k) u[k] += 0.5f * change[k];
  }
  auto follower = change;  // 0.9 x the change, plus its own part on a twentieth of the parameters
  const auto own = gaussian(300, 3.0);
  for (std::size_t k = 0; k < kDim; ++k) follower[k] = 0.9f * change[k] + (k % 20 == 0 ? own[k] : 0.0f);
  updates.push_back(follower);
  auto replay = gaussian(301, 4.0);
  for (std::size_t k = 0; k < kDim; ++k) replay[k] += change[k];
  updates.push_back(replay);
  ASSERT_LT(cosine_similarity(replay, change), 0.9);  // the plain replay check does not see it
  const auto s = screen(updates, history);
  EXPECT_EQ(s.flagged(), 1);
  EXPECT_NE(s.reasons[6].find("replays the global change of round 3 under noise"), std::string::npos) << s.reasons[6];
  EXPECT_TRUE(s.reasons[5].empty()) << s.reasons[5];
  for (int i = 0; i < 5; ++i) EXPECT_TRUE(s.reasons[i].empty()) << i << ": " << s.reasons[i];
}

// Up to 64 updates the products come from one Gram matrix; past that, each product directly and
// the copies by their sketches. Both see the same free riders and copies.
TEST(Screening, ARoundOfManyUpdatesIsScreenedAsASmallOneIs) {
  const auto change = gaussian(7);
  const std::vector<common::PublicKey> nobody;
  for (int honest_count : {6, 66}) {
    ScreeningHistory history;
    history.record_round(3, change, nobody, {});
    auto updates = honest(honest_count);
    const auto n = static_cast<std::size_t>(honest_count);
    updates.push_back(std::vector<float>(kDim, 0.0f));  // n: zero
    updates.push_back(gaussian(500, 0.01));              // n + 1: noise
    updates.push_back(change);                           // n + 2: a replay
    updates.push_back(updates[0]);                       // n + 3: a copy of worker 0
    const auto s = screen(updates, history);
    EXPECT_EQ(s.flagged(), 3) << honest_count;
    EXPECT_NE(s.reasons[n].find("zero update"), std::string::npos) << s.reasons[n];
    EXPECT_NE(s.reasons[n + 1].find("no more signal than noise"), std::string::npos) << s.reasons[n + 1];
    EXPECT_NE(s.reasons[n + 2].find("replays the global change of round 3"), std::string::npos) << s.reasons[n + 2];
    EXPECT_GE(s.copy_group[0], 0);
    EXPECT_EQ(s.copy_group[0], s.copy_group[n + 3]);
    EXPECT_EQ(std::count_if(s.copy_group.begin(), s.copy_group.end(), [](int g) { return g >= 0; }), 2);
    EXPECT_EQ(s.sketches.size(), updates.size());
  }
}

}  // namespace
}  // namespace fl::coordinator
