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

}  // namespace
}  // namespace fl::coordinator
