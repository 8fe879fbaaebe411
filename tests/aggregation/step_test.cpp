// Pre-aggregation steps against results worked out by hand; each composes with a rule.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "updates.hpp"

namespace fl::coordinator {
namespace {

using testing::aggregate;
using testing::Rows;
using ::testing::ElementsAre;
using ::testing::FloatEq;

TEST(NearestNeighbourMixing, ReplacesEachRowWithTheMeanOfItsNMinusFNearest) {
  // f = 1, rows 0, 1, 10: each row averages itself and its nearest other row:
  // 0 -> (0+1)/2, 1 -> (1+0)/2, 10 -> (10+1)/2. The median of {0.5, 0.5, 5.5} is 0.5.
  RuleOptions o;
  o.f = 1;
  auto out = aggregate("nnm+median", {{0}, {1}, {10}}, o);
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_THAT(*out, ElementsAre(0.5f));
  // and the mean of the mixed rows is (0.5 + 0.5 + 5.5) / 3.
  auto mean = aggregate("nnm+fedavg", {{0}, {1}, {10}}, o);
  ASSERT_TRUE(mean.ok());
  EXPECT_THAT(*mean, ElementsAre(FloatEq(6.5f / 3)));
}

TEST(NearestNeighbourMixing, RefusesWhenHalfTheUpdatesMayBeByzantine) {
  RuleOptions o;
  o.f = 2;
  auto out = aggregate("nnm+median", {{0}, {1}, {10}, {11}}, o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kPrecondition);
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("2f < n"));
}

TEST(Bucketing, WithEqualBucketsKeepsTheMean) {
  // Whatever the shuffle, two buckets of two averaged with their summed weights give the mean.
  auto out = aggregate("bucketing(s=2)+fedavg", {{1, 0}, {3, 0}, {5, 4}, {7, 8}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatEq(4.0f), FloatEq(3.0f)));
}

TEST(Bucketing, HandsTheRuleOneUpdatePerBucket) {
  // Six updates in buckets of three are two updates for Krum, which needs at least 2f+3 = 3.
  auto out = aggregate("bucketing(s=3)+krum", {{1}, {2}, {3}, {4}, {5}, {6}});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("got 2"));
}

TEST(Bucketing, ShufflesTheSameWayForTheSameSeedAndCall) {
  const Rows rows = testing::gaussian_rows(9, 4, 0.0f, 3);
  RuleOptions o;
  o.seed = 42;
  auto a = aggregate("bucketing(s=2)+krum", rows, o);
  auto b = aggregate("bucketing(s=2)+krum", rows, o);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
}

TEST(Bucketing, ReshufflesOnEveryCall) {
  // With nine distinct rows in buckets of two, the Krum pick over bucket means changes with the
  // buckets; across ten rounds at least two results differ.
  const Rows rows = testing::gaussian_rows(9, 4, 0.0f, 3);
  auto rule = make_rule("bucketing(s=2)+krum", {});
  ASSERT_TRUE(rule.ok());
  std::vector<std::vector<float>> results;
  for (int round = 0; round < 10; ++round) {
    auto out = (*rule)->aggregate(testing::views_of(rows));
    ASSERT_TRUE(out.ok());
    results.push_back(*out);
  }
  std::sort(results.begin(), results.end());
  EXPECT_GT(std::unique(results.begin(), results.end()) - results.begin(), 1);
}

TEST(StaticClipping, ScalesUpdatesAboveTheNormDownToIt) {
  // (3,4) has norm 5 -> (0.6, 0.8); (0, 0.5) is within the bound. Mean (0.3, 0.65).
  auto out = aggregate("clip(norm=1)+fedavg", {{3, 4}, {0, 0.5f}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatEq(0.3f), FloatEq(0.65f)));
}

TEST(AdaptiveRobustClipping, ClipsTheKLargestToTheNextLargestNorm) {
  // n = 5, f = 1: k = floor(2 * 1/5 * 4) = 1. The largest, (10,0), is clipped to the second
  // largest norm, 3: (3,0). Mean of (3,0),(0,2),(1,0),(0,3),(0,0.5) = (0.8, 1.1).
  RuleOptions o;
  o.f = 1;
  auto out = aggregate("arc+fedavg", {{10, 0}, {0, 2}, {1, 0}, {0, 3}, {0, 0.5f}}, o);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatEq(0.8f), FloatEq(1.1f)));
}

TEST(AdaptiveRobustClipping, LeavesUpdatesAloneWhenNoAttackerIsAssumed) {
  auto out = aggregate("arc+fedavg", {{10, 0}, {0, 2}});
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(5.0f, 1.0f));
}

TEST(Steps, ComposeInTheOrderWritten) {
  // clip then arc: (30,40) -> norm 5 -> (3,4); rows (3,4),(0,1),(1,0),(0,2),(2,0), f = 1:
  // k = 1, the largest (norm 5) is clipped to the next (2): (1.2, 1.6). Mean (4.2/5, 4.6/5).
  RuleOptions o;
  o.f = 1;
  auto out = aggregate("clip(norm=5)+arc+fedavg", {{30, 40}, {0, 1}, {1, 0}, {0, 2}, {2, 0}}, o);
  ASSERT_TRUE(out.ok());
  EXPECT_THAT(*out, ElementsAre(FloatEq(0.84f), FloatEq(0.92f)));
}

}  // namespace
}  // namespace fl::coordinator
