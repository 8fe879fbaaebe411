#include <gtest/gtest.h>

#include "fl/coordinator/contribution.hpp"

namespace fl::coordinator {
namespace {

TEST(Contribution, AlignedUpdateScoresOneOpposedScoresZero) {
  std::vector<float> agg{1, 2, 3}, same{2, 4, 6}, opposite{-1, -2, -3}, orthogonal{3, 0, -1};
  std::vector<std::span<const float>> updates{same, opposite, orthogonal};
  auto scores = contribution_scores(updates, agg);
  EXPECT_NEAR(scores[0], 1.0, 1e-12);
  EXPECT_EQ(scores[1], 0.0);
  EXPECT_NEAR(scores[2], 0.0, 1e-12);
}

TEST(Contribution, ZeroVectorScoresZero) {
  std::vector<float> agg{1, 1}, zero{0, 0};
  EXPECT_EQ(cosine_similarity(zero, agg), 0.0);
}

TEST(ContributionScorer, CosineScorerMatchesTheCosineScores) {
  auto scorer = make_scorer("cosine");
  ASSERT_TRUE(scorer.ok()) << scorer.error().to_string();
  EXPECT_EQ((*scorer)->name(), "cosine");
  std::vector<float> agg{1, 2, 3}, same{2, 4, 6}, opposite{-1, -2, -3}, global{0, 0, 0};
  std::vector<std::span<const float>> updates{same, opposite};
  std::vector<std::uint64_t> samples{10, 20};
  auto scores = (*scorer)->score({updates, samples, agg, global});
  ASSERT_TRUE(scores.ok()) << scores.error().to_string();
  EXPECT_EQ(*scores, contribution_scores(updates, agg));
}

TEST(ContributionScorer, RejectsInputWhoseCountsDoNotMatch) {
  auto scorer = make_scorer("cosine");
  ASSERT_TRUE(scorer.ok());
  std::vector<float> agg{1, 2}, short_update{1};
  std::vector<std::span<const float>> updates{short_update};
  std::vector<std::uint64_t> samples{1};
  EXPECT_FALSE((*scorer)->score({updates, samples, agg, agg}).ok());
  std::vector<std::uint64_t> no_samples;
  EXPECT_FALSE((*scorer)->score({updates, no_samples, agg, agg}).ok());
}

TEST(ContributionScorer, UnknownSpecNamesTheKnownScorers) {
  auto scorer = make_scorer("shapley");
  ASSERT_FALSE(scorer.ok());
  EXPECT_NE(scorer.error().message.find("cosine"), std::string::npos);
}

}  // namespace
}  // namespace fl::coordinator
