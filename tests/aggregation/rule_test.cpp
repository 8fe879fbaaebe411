// Each rule against results worked out by hand on small inputs.
#include <gtest/gtest.h>
#include <gmock/gmock.h>

#include "updates.hpp"

namespace fl::coordinator {
namespace {

using testing::aggregate;
using testing::Rows;
using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::FloatNear;

const Rows kGrid = {{1, 2, 3}, {4, 5, 6}, {7, 8, 9}};

RuleOptions with_f(int f) {
  RuleOptions o;
  o.f = f;
  return o;
}

TEST(WeightedMean, WeighsEachUpdateByItsSampleCount) {
  // ((1,2) + (3,4) + 2 * (5,6)) / 4 = (14/4, 18/4)
  auto out = aggregate("fedavg", {{1, 2}, {3, 4}, {5, 6}}, {}, {1, 1, 2});
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(*out, ElementsAre(FloatEq(3.5f), FloatEq(4.5f)));
}

TEST(WeightedMean, RefusesWeightsThatSumToZero) {
  auto out = aggregate("fedavg", {{1}, {2}}, {}, {0, 0});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kPrecondition);
}

TEST(Median, OfTheGridIsTheMiddleRow) {
  auto out = aggregate("median", kGrid, with_f(1));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(*out, ElementsAre(4, 5, 6));
}

TEST(Median, PicksTheMiddleValuePerCoordinateNotARow) {
  // Columns {7,1,4}, {2,8,5}, {6,3,9}: medians 4, 5, 6 from three different rows.
  auto out = aggregate("median", {{7, 2, 6}, {1, 8, 3}, {4, 5, 9}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(4, 5, 6));
}

TEST(Median, OfAnEvenCountIsTheMeanOfTheTwoMiddleValues) {
  // Columns {1,2,3,100} -> (2+3)/2; {10,40,20,30} -> (20+30)/2.
  auto out = aggregate("median", {{1, 10}, {2, 40}, {3, 20}, {100, 30}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(2.5f, 25.0f));
}

TEST(TrimmedMean, OfTheGridWithOneTrimmedEachSideIsTheMiddleRow) {
  auto out = aggregate("trimmed_mean", kGrid, with_f(1));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(4, 5, 6));
}

TEST(TrimmedMean, DropsTheFLargestAndFSmallestPerCoordinate) {
  // Columns {1,2,3,4,100} -> mean(2,3,4) = 3; {-50,0,1,2,3} -> mean(0,1,2) = 1.
  auto out = aggregate("trimmed_mean", {{100, 3}, {2, -50}, {1, 0}, {3, 1}, {4, 2}}, with_f(1));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(3.0f, 1.0f));
}

TEST(TrimmedMean, WithZeroTrimmedIsThePlainMean) {
  auto out = aggregate("trimmed_mean", {{1, 0}, {2, 0}, {6, 3}}, with_f(0));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(3.0f, 1.0f));
}

TEST(Krum, PicksTheRowWithTheSmallestSumOfDistancesToItsNearest) {
  // f = 1, n = 5: score = the 2 smallest squared distances. Points 0,1,2,10,100 on a line:
  // scores 1+4=5, 1+1=2, 1+4=5, 64+81=145, 8100+9604 -> the row at 1.
  auto out = aggregate("krum", {{0, 0}, {1, 0}, {2, 0}, {10, 0}, {100, 0}}, with_f(1));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(*out, ElementsAre(1.0f, 0.0f));
}

TEST(Krum, BreaksEqualScoresByTheCallersOrder) {
  // Points 3,0,100,1,4: scores 3 -> 1+4 = 5 and 1 -> 1+4 = 5 tie; the earlier row (3) wins.
  auto out = aggregate("krum", {{3}, {0}, {100}, {1}, {4}}, with_f(1));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(3.0f));
}

TEST(Krum, OfTheGridWithNoAssumedAttackerReturnsAnInputRow) {
  // Every row's nearest other row is 27 away: all tie, the first row wins.
  auto out = aggregate("krum", kGrid, with_f(0));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(1, 2, 3));
}

TEST(MultiKrum, AveragesTheNMinusFBestScoredRowsByDefault) {
  // Scores as in Krum above: best four are the rows at 1, 0, 2, 10 -> mean 13/4.
  auto out = aggregate("multikrum", {{0}, {1}, {2}, {10}, {100}}, with_f(1));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(3.25f));
}

TEST(MultiKrum, AveragesTheMBestWhenMIsGiven) {
  // m = 2: the row at 1 (score 2) and, of the tied rows at 0 and 2 (score 5), the earlier one.
  auto out = aggregate("multikrum(m=2)", {{0}, {1}, {2}, {10}, {100}}, with_f(1));
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(0.5f));
}

TEST(Bulyan, AveragesTheValuesClosestToTheMedianOfTheKrumSelection) {
  // n = 7, f = 1: theta = 5 rows picked by repeated Krum (the five near the origin; the rows
  // at x = 50 and 100 are never best), beta = 3 values per coordinate closest to the median.
  // x: {0,1,2,3,4}, median 2 -> {2, 1, 3} (tie 1/3 both kept) -> 2.
  // y: {0,9,1,5,2}, median 2 -> {2, 1, 0} -> 1.
  const Rows rows = {{0, 0}, {1, 9}, {2, 1}, {3, 5}, {4, 2}, {50, 0}, {100, 0}};
  auto out = aggregate("bulyan", rows, with_f(1));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(*out, ElementsAre(FloatEq(2.0f), FloatEq(1.0f)));
}

TEST(GeometricMedian, OfCollinearPointsIsTheMiddlePoint) {
  // On a line the geometric median is the 1-D median: (1, 1), not the mean (11/3, 11/3).
  RuleOptions o;
  o.geomed_max_iter = 2000;
  o.geomed_tol = 1e-12;
  o.geomed_nu = 1e-9;
  auto out = aggregate("geomed", {{0, 0}, {1, 1}, {10, 10}}, o);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(*out, ElementsAre(FloatNear(1.0f, 1e-3f), FloatNear(1.0f, 1e-3f)));
}

TEST(GeometricMedian, OfASquaresCornersIsItsCentre) {
  auto out = aggregate("geomed", {{0, 0}, {2, 0}, {0, 2}, {2, 2}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatNear(1.0f, 1e-5f), FloatNear(1.0f, 1e-5f)));
}

TEST(GeometricMedian, FollowsTheWeightsOfTheUpdates) {
  // Weight 3 at 0 against weight 1 at 4: the weighted 1-D median is 0.
  RuleOptions o;
  o.geomed_max_iter = 2000;
  o.geomed_tol = 1e-12;
  auto out = aggregate("geomed", {{0}, {4}}, o, {3, 1});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatNear(0.0f, 1e-3f)));
}

TEST(GeometricMedian, StopsAfterTheIterationCap) {
  // Zero iterations leaves the starting point, the weighted mean.
  RuleOptions o;
  o.geomed_max_iter = 0;
  auto out = aggregate("geomed", {{0, 0}, {1, 1}, {10, 10}}, o);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatEq(11.0f / 3), FloatEq(11.0f / 3)));
}

TEST(CenteredClipping, ClipsEachDifferenceToTauAroundTheOrigin) {
  // v = 0: (3,4) has norm 5 -> (0.6, 0.8); (0,1) has norm 1 = tau, kept. Mean (0.3, 0.9).
  auto out = aggregate("cclip(tau=1,iters=1)", {{3, 4}, {0, 1}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatEq(0.3f), FloatEq(0.9f)));
}

TEST(CenteredClipping, KeepsItsCentreAcrossRounds) {
  // Round 2 starts at v = (0.3, 0.9): x1 - v = (2.7, 3.1), norm sqrt(16.9) -> unit length;
  // x2 - v = (-0.3, 0.1) kept. v + mean = (0.3 + (2.7/sqrt(16.9) - 0.3)/2,
  //                                         0.9 + (3.1/sqrt(16.9) + 0.1)/2).
  auto rule = make_rule("cclip(tau=1,iters=1)", {});
  ASSERT_TRUE(rule.ok());
  const Rows rows = {{3, 4}, {0, 1}};
  ASSERT_TRUE((*rule)->aggregate(testing::views_of(rows)).ok());
  auto out = (*rule)->aggregate(testing::views_of(rows));
  ASSERT_TRUE(out.ok());
  const double r = std::sqrt(16.9);
  EXPECT_THAT(*out, ElementsAre(FloatNear(static_cast<float>(0.3 + (2.7 / r - 0.3) / 2), 1e-6f),
                                FloatNear(static_cast<float>(0.9 + (3.1 / r + 0.1) / 2), 1e-6f)));
}

TEST(CenteredClipping, WithMoreIterationsMovesFurtherTowardsTheUpdates) {
  // Two iterations from 0 with tau = 1 on the single point (4, 0): 0 -> (1,0) -> (2,0).
  auto out = aggregate("cclip(tau=1,iters=2)", {{4, 0}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(2.0f, 0.0f));
}

}  // namespace
}  // namespace fl::coordinator
