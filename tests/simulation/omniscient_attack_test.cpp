#include "fl/coordinator/simulation/omniscient_attack.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

namespace fl::coordinator {
namespace {

double normal_cdf(double x) { return 0.5 * std::erfc(-x / std::numbers::sqrt2); }

TEST(InverseNormalCdf, InvertsTheNormalCdfAcrossTheRange) {
  for (double p : {1e-10, 1e-4, 0.02, 0.1, 0.3, 0.5, 0.65, 0.9, 0.98, 0.9999}) {
    EXPECT_NEAR(normal_cdf(inverse_normal_cdf(p)), p, 1e-13 + 1e-12 * p) << "p = " << p;
  }
}

TEST(InverseNormalCdf, GivesTheTextbookQuantiles) {
  EXPECT_NEAR(inverse_normal_cdf(0.975), 1.959963984540054, 1e-12);
  EXPECT_NEAR(inverse_normal_cdf(0.5), 0.0, 1e-15);
  EXPECT_NEAR(inverse_normal_cdf(0.025), -1.959963984540054, 1e-12);
}

TEST(AlieThreshold, MatchesThePaperForTwentyWorkersOfWhichFourAreByzantine) {
  auto t = alie_threshold(20, 4);
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->s, 7);  // floor(20/2 + 1) - 4
  EXPECT_NEAR(t->z, 0.38532046640756773, 1e-12);  // Phi^-1(13/20)
}

TEST(AlieThreshold, FloorsHalfOfAnOddWorkerCount) {
  auto t = alie_threshold(11, 2);  // s = floor(6.5) - 2 = 4, z = Phi^-1(7/11)
  ASSERT_TRUE(t.ok()) << t.error().message;
  EXPECT_EQ(t->s, 4);
  EXPECT_NEAR(normal_cdf(t->z), 7.0 / 11.0, 1e-12);
}

TEST(AlieThreshold, RejectsAByzantineMajorityThatLeavesNoThreshold) {
  auto t = alie_threshold(10, 6);  // s = 6 - 6 = 0
  ASSERT_FALSE(t.ok());
  EXPECT_NE(t.error().message.find("s = floor(n/2 + 1) - f = 0"), std::string::npos)
      << t.error().message;
}

TEST(AlieThreshold, RejectsZeroByzantineWorkers) {
  EXPECT_FALSE(alie_threshold(20, 0).ok());
}

TEST(AlieUpdate, IsTheMeanPlusZStandardDeviationsPerCoordinate) {
  const std::vector<float> a{1, 10, -2}, b{3, 10, 2};  // mean {2, 10, 0}, std {1, 0, 2}
  const std::vector<std::span<const float>> honest{a, b};
  auto out = alie_update(honest, 0.5);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FLOAT_EQ((*out)[0], 2.5f);
  EXPECT_FLOAT_EQ((*out)[1], 10.0f);
  EXPECT_FLOAT_EQ((*out)[2], 1.0f);
}

TEST(AlieUpdate, RejectsHonestUpdatesOfDifferentLengths) {
  const std::vector<float> a{1, 2}, b{1, 2, 3};
  const std::vector<std::span<const float>> honest{a, b};
  auto out = alie_update(honest, 1.0);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("honest update 1 has 3 values"), std::string::npos);
}

TEST(IpmUpdate, IsMinusEpsilonTimesTheHonestMean) {
  const std::vector<float> a{1, -4, 0}, b{3, 0, 2};  // mean {2, -2, 1}
  const std::vector<std::span<const float>> honest{a, b};
  auto out = ipm_update(honest, 0.5);
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_FLOAT_EQ((*out)[0], -1.0f);
  EXPECT_FLOAT_EQ((*out)[1], 1.0f);
  EXPECT_FLOAT_EQ((*out)[2], -0.5f);
}

TEST(IpmUpdate, HasANegativeInnerProductWithTheHonestMean) {
  const std::vector<float> a{0.3f, -1.2f, 2.0f, 0.1f}, b{0.5f, -0.7f, 1.0f, -0.4f};
  const std::vector<std::span<const float>> honest{a, b};
  auto out = ipm_update(honest, 0.1);
  ASSERT_TRUE(out.ok());
  double dot = 0;
  for (std::size_t j = 0; j < a.size(); ++j) dot += (*out)[j] * 0.5 * (a[j] + b[j]);
  EXPECT_LT(dot, 0);
}

TEST(IpmUpdate, RejectsARoundWithoutHonestUpdates) {
  auto out = ipm_update({}, 0.1);
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.error().message.find("at least one honest update"), std::string::npos);
}

}  // namespace
}  // namespace fl::coordinator
