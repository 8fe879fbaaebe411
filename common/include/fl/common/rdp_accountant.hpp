// Rényi-DP accountant for the sampled Gaussian mechanism (each round samples
// clients with probability q and adds Gaussian noise of std sigma times the
// clip norm): the RDP of one round after Mironov, Talwar and Zhang 2019,
// composed over T rounds and converted to (epsilon, delta). Torch-free, so the
// ledger's budget checks and `fl-coordinator dp-epsilon` share one reading.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::common {

// Opacus' DEFAULT_ALPHAS (analysis/rdp.py), the same list TF Privacy's
// tutorials use: 1.1, 1.2, ..., 10.9, then 12, 13, ..., 63.
std::vector<double> default_rdp_orders();

// RDP of one step of the sampled Gaussian mechanism at `order` (Mironov, Talwar
// and Zhang 2019): log(A_alpha) / (alpha - 1), with A_alpha from the binomial
// expansion for integer orders and TF Privacy's erfc series for fractional
// ones. q = 0 gives 0, q = 1 gives order / (2 sigma^2), sigma = 0 (with q > 0)
// gives +inf. Fails naming the value when q is outside [0, 1], sigma is
// negative or not finite, or order is not a finite number above 1.
Result<double> rdp_sampled_gaussian(double q, double sigma, double order);

// RDP of `rounds` steps at each order (composition: rounds times the one-step
// value).
Result<std::vector<double>> rdp_sampled_gaussian(double q, double sigma, std::int64_t rounds,
                                                 std::span<const double> orders);

// How an RDP curve becomes (epsilon, delta).
enum class RdpConversion {
  // Balle, Barthe, Gaboardi, Hsu and Sato 2020, Theorem 21 (as Opacus):
  // eps = rdp - (log delta + log alpha) / (alpha - 1) + log((alpha - 1) /
  // alpha).
  kBalle2020,
  // Mironov 2017, Proposition 3 (TF Privacy's older figures): eps = rdp +
  // log(1/delta)/(alpha-1).
  kMironov2017,
};

// "balle2020" or "mironov2017"; anything else fails naming the value.
Result<RdpConversion> parse_rdp_conversion(std::string_view name);
std::string_view to_string(RdpConversion conversion);

struct EpsilonAtOrder {
  double epsilon = 0;  // >= 0; +inf when no order gives a finite bound
  double order = 0;    // the order attaining it; NaN when epsilon is +inf
};

// The smallest epsilon over the orders (rdp[i] is the composed RDP at
// orders[i]). Fails when the spans differ in length or are empty, or delta is
// outside (0, 1).
Result<EpsilonAtOrder> epsilon_from_rdp(std::span<const double> orders, std::span<const double> rdp,
                                        double delta, RdpConversion conversion);

// One `fl-coordinator dp-epsilon` question and its answer.
struct SampledGaussianQuery {
  double q = 0;      // sampling probability of a client in one round
  double sigma = 0;  // noise multiplier: noise std over the clip norm
  std::int64_t rounds = 0;
  double delta = 1e-5;
  RdpConversion conversion = RdpConversion::kBalle2020;
};

struct PrivacySpent {
  SampledGaussianQuery query;
  EpsilonAtOrder best;
  std::vector<double> orders;
  std::vector<double> rdp;  // composed over query.rounds, one per order
};

// Validates the query (q in [0, 1], sigma >= 0, rounds >= 0, delta in (0, 1))
// and accounts it over `orders` (default_rdp_orders() when empty).
Result<PrivacySpent> privacy_spent(const SampledGaussianQuery &query,
                                   std::span<const double> orders = {});

// "epsilon = 2.5967 at order 8.1 (delta = 1e-05, ...)" for the terminal.
std::string privacy_spent_text(const PrivacySpent &spent);
// {"epsilon", "order", "delta", "q", "sigma", "rounds", "conversion", "rdp":
// {"1.1": ..., ...}}; an infinite epsilon or RDP is written as null.
std::string privacy_spent_json(const PrivacySpent &spent);

}  // namespace fl::common
