// The Rényi-DP accountant of the sampled Gaussian mechanism against the closed
// form at q = 1, TF Privacy's published MNIST figures, and a table computed
// independently at 40 digits.
#include "fl/common/rdp_accountant.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace fl::common {
namespace {

PrivacySpent spend(double q, double sigma, std::int64_t rounds, double delta,
                   RdpConversion conversion = RdpConversion::kBalle2020) {
  auto spent = privacy_spent({q, sigma, rounds, delta, conversion});
  EXPECT_TRUE(spent.ok()) << (spent.ok() ? "" : spent.error().to_string());
  return spent.ok() ? std::move(spent).value() : PrivacySpent{};
}

TEST(RdpAccountant, DefaultOrdersAreOpacusDefaultAlphas) {
  const std::vector<double> orders = default_rdp_orders();
  ASSERT_EQ(orders.size(), 99u + 52u);
  EXPECT_EQ(orders.front(), 1.1);
  EXPECT_EQ(orders[8], 1.9);
  EXPECT_EQ(orders[9], 2.0);
  EXPECT_EQ(orders[98], 1 + 99 / 10.0);
  EXPECT_EQ(orders[99], 12.0);
  EXPECT_EQ(orders.back(), 63.0);
}

TEST(RdpAccountant, FullSamplingEqualsTheGaussianClosedFormTimesRounds) {
  const double sigma = 1.7;
  const std::int64_t rounds = 321;
  const PrivacySpent spent = spend(1.0, sigma, rounds, 1e-5);
  ASSERT_EQ(spent.rdp.size(), spent.orders.size());
  for (std::size_t i = 0; i < spent.orders.size(); ++i) {
    const double order = spent.orders[i];
    EXPECT_EQ(spent.rdp[i], order / (2 * sigma * sigma) * rounds) << "order " << order;
  }
}

TEST(RdpAccountant, FullSamplingEpsilonIsTheBestOrderOfTheClosedForm) {
  const double sigma = 3.0;
  const std::int64_t rounds = 20;
  const double delta = 1e-6;
  double expected = INFINITY;
  double expected_order = 0;
  for (const double a : default_rdp_orders()) {
    const double rdp = a / (2 * sigma * sigma) * rounds;
    const double eps = rdp - (std::log(delta) + std::log(a)) / (a - 1) + std::log((a - 1) / a);
    if (eps < expected) {
      expected = eps;
      expected_order = a;
    }
  }
  const PrivacySpent spent = spend(1.0, sigma, rounds, delta);
  EXPECT_NEAR(spent.best.epsilon, expected, 1e-12);
  EXPECT_EQ(spent.best.order, expected_order);
}

// Matches TF Privacy's published figures for its MNIST tutorial
// (tutorials/README.md: q = 256/60000, delta = 1e-5, the classic conversion
// over [1 + x/10 for x in 1..99] + [12..63], steps = ceil(epochs * 60000 / 256)
// as in compute_dp_sgd_privacy.py): eps = 3.01 for sigma 1.1 and 60
// epochs, 1.19 for sigma 1.3 and 15 epochs, 7.10 for sigma 0.7 and 45 epochs,
// and 1.03 after the first epoch of sigma 1.1.
TEST(RdpAccountant, ClassicConversionReproducesTfPrivacyMnistFigures) {
  struct Figure {
    double sigma;
    std::int64_t steps;
    double published_epsilon;
  };
  const double q = 256.0 / 60000.0;
  for (const Figure &f : {Figure{1.1, 14063, 3.01}, Figure{1.3, 3516, 1.19},
                          Figure{0.7, 10547, 7.10}, Figure{1.1, 235, 1.03}}) {
    const PrivacySpent spent = spend(q, f.sigma, f.steps, 1e-5, RdpConversion::kMironov2017);
    EXPECT_NEAR(spent.best.epsilon, f.published_epsilon, 0.01 * f.published_epsilon)
        << "sigma " << f.sigma << ", " << f.steps << " steps";
  }
}

// Produced by tests/coordinator/rdp_reference.py (mpmath at 40 digits: the
// exact binomial sum at integer orders, quadrature of A_alpha's defining
// integral at fractional ones; see the script), over Opacus' default orders.
// The first four rows are the TF Privacy MNIST settings above, where the
// classic column agrees with the published 3.01, 1.19, 7.10 and 1.03.
struct ReferenceRow {
  double q;
  double sigma;
  std::int64_t steps;
  double delta;
  double balle2020_epsilon;
  double balle2020_order;
  double mironov2017_epsilon;
  double mironov2017_order;
};

constexpr ReferenceRow kReferenceTable[] = {
    {0.004266666666666667, 1.1, 14063, 1e-05, 2.596655529, 8.1, 3.008381047, 8.8},
    {0.004266666666666667, 1.3, 3516, 1e-05, 0.9545639531, 17, 1.192264409, 17},
    {0.004266666666666667, 0.7, 10547, 1e-05, 6.318383965, 3.8, 7.10055171, 3.8},
    {0.004266666666666667, 1.1, 235, 1e-05, 0.7405531758, 13, 1.034341663, 13},
    {0.01, 1.0, 10000, 1e-05, 6.712738298, 4.1, 7.428728131, 4.3},
    {0.01, 4.0, 1000, 1e-06, 0.3470365088, 54, 0.434529032, 63},
    {0.05, 0.7, 100, 1e-05, 9.132077535, 2.7, 10.17896681, 2.7},
    {0.05, 2.0, 10000, 1e-06, 16.71604672, 2.8, 17.70048208, 2.9},
    {0.1, 1.5, 1000, 1e-05, 13.56353029, 2.8, 14.57737383, 2.8},
    {0.1, 0.8, 10, 1e-06, 6.394877455, 3.5, 7.232454879, 3.5},
    {0.5, 3.0, 100, 1e-05, 9.059750583, 3.5, 9.887509862, 3.6},
    {0.5, 1.0, 1, 1e-06, 4.395483848, 5.8, 4.937115081, 6.2},
    {1.0, 2.0, 50, 1e-05, 22.01985233, 2.3, 23.22351819, 2.4},
    {1.0, 4.0, 10000, 1e-06, 441.3741855, 1.2, 444.0775528, 1.2},
};

TEST(RdpAccountant, EpsilonMatchesTheReferenceTableWithinOnePercent) {
  for (const ReferenceRow &row : kReferenceTable) {
    const PrivacySpent balle = spend(row.q, row.sigma, row.steps, row.delta);
    EXPECT_NEAR(balle.best.epsilon, row.balle2020_epsilon, 0.01 * row.balle2020_epsilon)
        << "q " << row.q << ", sigma " << row.sigma << ", " << row.steps << " steps";
    const PrivacySpent classic =
        spend(row.q, row.sigma, row.steps, row.delta, RdpConversion::kMironov2017);
    EXPECT_NEAR(classic.best.epsilon, row.mironov2017_epsilon, 0.01 * row.mironov2017_epsilon)
        << "q " << row.q << ", sigma " << row.sigma << ", " << row.steps << " steps";
  }
}

TEST(RdpAccountant, BestOrderMatchesTheReferenceTable) {
  for (const ReferenceRow &row : kReferenceTable) {
    EXPECT_EQ(spend(row.q, row.sigma, row.steps, row.delta).best.order, row.balle2020_order)
        << "q " << row.q << ", sigma " << row.sigma << ", " << row.steps << " steps";
  }
}

// The fractional series and the integer expansion are two formulas for one
// curve, which never decreases with the order (RDP is monotone in alpha).
TEST(RdpAccountant, RdpNeverDecreasesAcrossIntegerAndFractionalOrders) {
  for (const auto &[q, sigma] :
       {std::pair{0.01, 0.7}, std::pair{0.05, 1.1}, std::pair{0.3, 2.0}, std::pair{0.9, 4.0}}) {
    auto rdp = rdp_sampled_gaussian(q, sigma, 1, default_rdp_orders());
    ASSERT_TRUE(rdp.ok()) << rdp.error().to_string();
    for (std::size_t i = 1; i < rdp->size(); ++i) {
      EXPECT_GE((*rdp)[i], (*rdp)[i - 1] * (1 - 1e-12)) << "q " << q << ", sigma " << sigma;
    }
  }
}

TEST(RdpAccountant, CompositionMultipliesOneRoundByTheRounds) {
  auto one = rdp_sampled_gaussian(0.05, 1.3, 2.5);
  auto many = rdp_sampled_gaussian(0.05, 1.3, 700, std::vector<double>{2.5});
  ASSERT_TRUE(one.ok() && many.ok());
  EXPECT_DOUBLE_EQ((*many)[0], *one * 700);
}

TEST(RdpAccountant, NoSamplingCostsNothing) {
  const PrivacySpent spent = spend(0.0, 1.0, 1000, 1e-5);
  for (const double rdp : spent.rdp) EXPECT_EQ(rdp, 0.0);
  EXPECT_EQ(spent.best.epsilon, 0.0);
}

TEST(RdpAccountant, ZeroRoundsCostNothingEvenWithoutNoise) {
  const PrivacySpent spent = spend(0.5, 0.0, 0, 1e-5);
  EXPECT_EQ(spent.best.epsilon, 0.0);
}

TEST(RdpAccountant, NoNoiseGivesInfiniteEpsilonAndNoOrder) {
  auto one = rdp_sampled_gaussian(0.1, 0.0, 3.0);
  ASSERT_TRUE(one.ok());
  EXPECT_TRUE(std::isinf(*one));
  const PrivacySpent spent = spend(0.1, 0.0, 10, 1e-5);
  EXPECT_TRUE(std::isinf(spent.best.epsilon));
  EXPECT_TRUE(std::isnan(spent.best.order));
}

TEST(RdpAccountant, ClassicConversionIsNeverTighterThanBalle2020) {
  for (const ReferenceRow &row : kReferenceTable) {
    EXPECT_LE(
        spend(row.q, row.sigma, row.steps, row.delta).best.epsilon,
        spend(row.q, row.sigma, row.steps, row.delta, RdpConversion::kMironov2017).best.epsilon);
  }
}

void expect_refused(const SampledGaussianQuery &query, const std::string &named) {
  auto spent = privacy_spent(query);
  ASSERT_FALSE(spent.ok()) << "accepted " << named;
  EXPECT_EQ(spent.error().code, ErrorCode::kInvalidArgument);
  EXPECT_NE(spent.error().message.find(named), std::string::npos) << spent.error().message;
}

TEST(RdpAccountant, RefusesSamplingProbabilityOutsideZeroToOne) {
  expect_refused({1.5, 1.0, 10, 1e-5}, "q = 1.5");
  expect_refused({-0.1, 1.0, 10, 1e-5}, "q = -0.1");
  expect_refused({NAN, 1.0, 10, 1e-5}, "q = nan");
}

TEST(RdpAccountant, RefusesNegativeOrInfiniteNoise) {
  expect_refused({0.1, -1.0, 10, 1e-5}, "sigma = -1");
  expect_refused({0.1, INFINITY, 10, 1e-5}, "sigma = inf");
}

TEST(RdpAccountant, RefusesNegativeRounds) { expect_refused({0.1, 1.0, -3, 1e-5}, "rounds = -3"); }

TEST(RdpAccountant, RefusesDeltaOutsideZeroToOne) {
  expect_refused({0.1, 1.0, 10, 0.0}, "delta = 0");
  expect_refused({0.1, 1.0, 10, 1.0}, "delta = 1");
  expect_refused({0.1, 1.0, 10, -1e-7}, "delta = -1e-07");
}

TEST(RdpAccountant, RefusesOrdersAtOrBelowOne) {
  auto rdp = rdp_sampled_gaussian(0.1, 1.0, 1.0);
  ASSERT_FALSE(rdp.ok());
  EXPECT_NE(rdp.error().message.find("order 1 "), std::string::npos) << rdp.error().message;
}

TEST(RdpAccountant, RefusesUnknownConversionByName) {
  auto conversion = parse_rdp_conversion("abadi2016");
  ASSERT_FALSE(conversion.ok());
  EXPECT_NE(conversion.error().message.find("abadi2016"), std::string::npos);
  EXPECT_EQ(parse_rdp_conversion("mironov2017").value_or(RdpConversion::kBalle2020),
            RdpConversion::kMironov2017);
}

TEST(RdpAccountant, JsonReportNamesEpsilonOrderAndEveryOrdersRdp) {
  const PrivacySpent spent = spend(0.01, 1.0, 10000, 1e-5);
  const auto doc = nlohmann::json::parse(privacy_spent_json(spent));
  EXPECT_DOUBLE_EQ(doc.at("epsilon").get<double>(), spent.best.epsilon);
  EXPECT_EQ(doc.at("order").get<double>(), 4.1);
  EXPECT_EQ(doc.at("delta").get<double>(), 1e-5);
  EXPECT_EQ(doc.at("q").get<double>(), 0.01);
  EXPECT_EQ(doc.at("sigma").get<double>(), 1.0);
  EXPECT_EQ(doc.at("rounds").get<std::int64_t>(), 10000);
  const auto &rdp = doc.at("rdp");
  ASSERT_EQ(rdp.size(), spent.orders.size());
  EXPECT_DOUBLE_EQ(rdp.at("2").get<double>(), spent.rdp[9]);
  EXPECT_DOUBLE_EQ(rdp.at("1.5").get<double>(), spent.rdp[4]);
  EXPECT_DOUBLE_EQ(rdp.at("63").get<double>(), spent.rdp.back());
}

TEST(RdpAccountant, JsonReportWritesAnInfiniteEpsilonAsNull) {
  const auto doc = nlohmann::json::parse(privacy_spent_json(spend(0.1, 0.0, 10, 1e-5)));
  EXPECT_TRUE(doc.at("epsilon").is_null());
  EXPECT_TRUE(doc.at("order").is_null());
}

}  // namespace
}  // namespace fl::common
