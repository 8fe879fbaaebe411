// Properties over many rules: robustness to planted outliers, determinism (same order -> same
// bits, whatever the thread count), permutation invariance, and input validation.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>

#include "updates.hpp"

namespace fl::coordinator {
namespace {

using testing::aggregate;
using testing::Rows;

constexpr std::size_t kN = 15, kD = 300;
constexpr int kF = 3;

// Rules that guarantee an output inside the honest coordinate-wise hull with f far outliers.
const char* const kHullRules[] = {"median",         "trimmed_mean",  "krum",
                                  "multikrum",      "bulyan",        "nnm+trimmed_mean",
                                  "nnm+median",     "arc+median",    "bucketing(s=2)+median",
                                  "clip(norm=30)+trimmed_mean"};
const char* const kAllRules[] = {"fedavg",    "median",       "trimmed_mean", "krum",
                                 "multikrum", "geomed",       "bulyan",       "cclip",
                                 "nnm+krum",  "bucketing+cclip", "clip(norm=5)+median",
                                 "arc+trimmed_mean", "nnm+bulyan"};

// kN - kF honest rows around 0 and kF attackers far away, interleaved at fixed positions.
Rows planted_rows(std::size_t d = kD) {
  Rows honest = testing::gaussian_rows(kN - kF, d, 0.0f, 11);
  Rows attackers = testing::gaussian_rows(kF, d, 1000.0f, 12);
  Rows rows;
  for (std::size_t i = 0, h = 0, a = 0; i < kN; ++i) {
    rows.push_back(i % 5 == 2 ? attackers[a++] : honest[h++]);
  }
  return rows;
}

RuleOptions planted_options() {
  RuleOptions o;
  o.f = kF;
  o.seed = 5;
  return o;
}

class HullRule : public ::testing::TestWithParam<const char*> {};

TEST_P(HullRule, StaysInsideTheHonestHullWithFOutliersFarAway) {
  const Rows rows = planted_rows();
  auto out = aggregate(GetParam(), rows, planted_options());
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  for (std::size_t c = 0; c < kD; ++c) {
    float lo = INFINITY, hi = -INFINITY;
    for (std::size_t i = 0; i < kN; ++i) {
      if (i % 5 == 2) continue;
      lo = std::min(lo, rows[i][c]);
      hi = std::max(hi, rows[i][c]);
    }
    ASSERT_GE((*out)[c], lo - 1e-4f) << "coordinate " << c;
    ASSERT_LE((*out)[c], hi + 1e-4f) << "coordinate " << c;
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, HullRule, ::testing::ValuesIn(kHullRules));

class AnyRule : public ::testing::TestWithParam<const char*> {};

TEST_P(AnyRule, GivesBitIdenticalResultsForTheSameOrderWhateverTheThreadCount) {
  // Large enough (15 x 70000 values) that the rules do run on several threads.
  constexpr std::size_t kBigD = 70000;
  const Rows rows = planted_rows(kBigD);
  RuleOptions one = planted_options(), two = planted_options();
  one.threads = 1;
  two.threads = 2;
  auto a = aggregate(GetParam(), rows, one);
  auto b = aggregate(GetParam(), rows, two);
  auto c = aggregate(GetParam(), rows, two);
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  ASSERT_EQ(a->size(), kBigD);
  EXPECT_EQ(0, std::memcmp(a->data(), b->data(), kBigD * sizeof(float)));
  EXPECT_EQ(0, std::memcmp(b->data(), c->data(), kBigD * sizeof(float)));
}

INSTANTIATE_TEST_SUITE_P(Rules, AnyRule, ::testing::ValuesIn(kAllRules));

// Rules whose definition does not depend on the order of the updates (no index tie-breaks hit
// on random data, no shuffle): a permutation changes the result by rounding only.
const char* const kSymmetricRules[] = {"fedavg", "median",   "trimmed_mean", "krum",
                                       "multikrum", "geomed", "bulyan",      "cclip",
                                       "nnm+trimmed_mean", "arc+median"};

class SymmetricRule : public ::testing::TestWithParam<const char*> {};

TEST_P(SymmetricRule, GivesTheSameResultUpToRoundingUnderAPermutation) {
  const Rows rows = planted_rows();
  Rows reversed(rows.rbegin(), rows.rend());
  Rows rotated = rows;
  std::rotate(rotated.begin(), rotated.begin() + 4, rotated.end());
  auto a = aggregate(GetParam(), rows, planted_options());
  ASSERT_TRUE(a.ok());
  for (const Rows* p : {&reversed, &rotated}) {
    auto b = aggregate(GetParam(), *p, planted_options());
    ASSERT_TRUE(b.ok());
    for (std::size_t c = 0; c < kD; ++c) {
      ASSERT_NEAR((*a)[c], (*b)[c], 1e-4f * (1.0f + std::abs((*a)[c]))) << "coordinate " << c;
    }
  }
}

INSTANTIATE_TEST_SUITE_P(Rules, SymmetricRule, ::testing::ValuesIn(kSymmetricRules));

TEST(CoordinateRules, AreBitIdenticalUnderAPermutation) {
  const Rows rows = planted_rows();
  const Rows reversed(rows.rbegin(), rows.rend());
  for (const char* spec : {"median", "trimmed_mean", "bulyan"}) {
    auto a = aggregate(spec, rows, planted_options());
    auto b = aggregate(spec, reversed, planted_options());
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_EQ(*a, *b) << spec;
  }
}

TEST(CoordinateRules, MatchASortedReferenceForEveryCountUpTo130) {
  // Covers the sorting network for every n (odd and even, powers of two and not) and lengths
  // that are not multiples of the 16-coordinate blocks.
  for (std::size_t n = 1; n <= 130; ++n) {
    const Rows rows = testing::gaussian_rows(n, 37, 0.0f, n);
    RuleOptions o;
    o.f = static_cast<int>((n - 1) / 3);
    auto median = aggregate("median", rows, o);
    auto trimmed = aggregate("trimmed_mean", rows, o);
    ASSERT_TRUE(median.ok() && trimmed.ok()) << "n = " << n;
    for (std::size_t c = 0; c < 37; ++c) {
      std::vector<float> col;
      for (const auto& r : rows) col.push_back(r[c]);
      std::sort(col.begin(), col.end());
      const double want_median =
          n % 2 == 1 ? col[n / 2] : (static_cast<double>(col[n / 2 - 1]) + col[n / 2]) / 2;
      ASSERT_EQ((*median)[c], static_cast<float>(want_median)) << "n = " << n << ", c = " << c;
      double sum = 0;
      for (std::size_t i = o.f; i < n - o.f; ++i) sum += col[i];
      ASSERT_EQ((*trimmed)[c], static_cast<float>(sum / static_cast<double>(n - 2 * o.f)))
          << "n = " << n << ", c = " << c;
    }
  }
}

TEST(Preconditions, KrumNeedsTwoFPlusThreeUpdates) {
  RuleOptions o;
  o.f = 1;
  auto out = aggregate("krum", {{1}, {2}, {3}, {4}}, o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kPrecondition);
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("n >= 2f+3 = 5 updates, got 4"));
}

TEST(Preconditions, MultiKrumNeedsTwoFPlusThreeUpdates) {
  RuleOptions o;
  o.f = 2;
  auto out = aggregate("multikrum", testing::gaussian_rows(6, 2, 0, 1), o);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("2f+3 = 7"));
}

TEST(Preconditions, BulyanNeedsFourFPlusThreeUpdates) {
  RuleOptions o;
  o.f = 1;
  auto out = aggregate("bulyan", testing::gaussian_rows(6, 2, 0, 1), o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kPrecondition);
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("n >= 4f+3 = 7 updates, got 6"));
}

TEST(Preconditions, TrimmedMeanNeedsFewerThanHalfTrimmed) {
  RuleOptions o;
  o.f = 2;
  auto out = aggregate("trimmed_mean", testing::gaussian_rows(4, 2, 0, 1), o);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kPrecondition);
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("2f < n, got n = 4"));
}

TEST(Preconditions, MultiKrumRefusesMoreRowsThanItHas) {
  auto out = aggregate("multikrum(m=6)", testing::gaussian_rows(5, 2, 0, 1));
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("m = 6 exceeds n = 5"));
}

TEST(Validation, RefusesAnEmptySetOfUpdates) {
  auto out = aggregate("median", {});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kPrecondition);
}

TEST(Validation, RefusesUpdatesOfDifferentLengths) {
  auto out = aggregate("fedavg", {{1, 2}, {1, 2}, {1, 2, 3}});
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().code, ErrorCode::kInvalidArgument);
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("update 2 has 3 values"));
}

TEST(Validation, RefusesANonFiniteValueNamingWhere) {
  Rows rows = testing::gaussian_rows(3, 10000, 0, 1);
  rows[1][9000] = NAN;
  auto out = aggregate("median", rows);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("update 1: value at index 9000"));
  rows[1][9000] = 0;
  rows[2][17] = -INFINITY;
  out = aggregate("krum", rows);
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("update 2: value at index 17"));
}

TEST(Validation, RefusesNegativeWeights) {
  auto out = aggregate("fedavg", {{1}, {2}}, {}, {1, -1});
  ASSERT_FALSE(out.ok());
  EXPECT_THAT(out.error().message, ::testing::HasSubstr("update 1 has weight -1"));
}

}  // namespace
}  // namespace fl::coordinator
