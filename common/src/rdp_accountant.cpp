// The sampled Gaussian mechanism's RDP follows Mironov, Talwar and Zhang 2019
// ("Rényi Differential Privacy of the Sampled Gaussian Mechanism"), computed in
// log space as TF Privacy's rdp_accountant.py does (_compute_log_a_int,
// _compute_log_a_frac): A_alpha's terms span hundreds of orders of magnitude at
// large orders and small sigma.
#include "fl/common/rdp_accountant.hpp"

#include <cmath>
#include <cstdio>
#include <limits>
#include <nlohmann/json.hpp>
#include <numbers>
#include <optional>
#include <sstream>

namespace fl::common {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Orders above this would make the integer expansion loop for a long time; the
// accountant's useful orders stay far below (Opacus and TF Privacy go to 63,
// sometimes 512).
constexpr double kMaxOrder = 10000;
// The fractional series stops once its terms are below e^-30 (TF Privacy's
// cut-off); this bounds its length should it never get there.
constexpr int kMaxSeriesTerms = 1'000'000;

// "2", "1.5", "1e-05": an order as a JSON key, a value in a message
// (std::to_string would write 1e-7 as 0.000000).
std::string number_text(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.10g", value);
  return buffer;
}

// log(exp(a) + exp(b)) without overflow.
double log_add(double a, double b) {
  const double lo = std::min(a, b);
  const double hi = std::max(a, b);
  if (lo == -kInf) return hi;
  return std::log1p(std::exp(lo - hi)) + hi;
}

// log(exp(a) - exp(b)) for a >= b; nullopt when a < b (the series lost its
// precision).
std::optional<double> log_sub(double a, double b) {
  if (a < b) return std::nullopt;
  if (b == -kInf) return a;
  if (a == b) return -kInf;
  const double diff = a - b;
  if (diff > 700) return a;  // exp(diff) - 1 == exp(diff) to double precision
  return std::log(std::expm1(diff)) + b;
}

// log(erfc(x)); past x = 26 erfc nears the subnormal range, so the asymptotic
// (Laurent) series at infinity takes over, as in TF Privacy's _log_erfc.
double log_erfc(double x) {
  if (x <= 26) return std::log(std::erfc(x));
  const double x2 = x * x;
  return -0.5 * std::log(std::numbers::pi) - std::log(x) - x2 - 0.5 / x2 + 0.625 / (x2 * x2) -
         37.0 / 24.0 / (x2 * x2 * x2) + 353.0 / 64.0 / (x2 * x2 * x2 * x2);
}

double log_binomial(int n, int k) {
  return std::lgamma(n + 1.0) - std::lgamma(k + 1.0) - std::lgamma(n - k + 1.0);
}

// log(A_alpha) for integer alpha: sum_i C(alpha, i) q^i (1-q)^(alpha-i)
// exp((i^2 - i) / 2s^2).
double log_a_integer(double q, double sigma, int alpha) {
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  const double two_s2 = 2 * sigma * sigma;
  double log_a = -kInf;
  for (int i = 0; i <= alpha; ++i) {
    const double log_term = log_binomial(alpha, i) + i * log_q + (alpha - i) * log_1mq +
                            (static_cast<double>(i) * i - i) / two_s2;
    log_a = log_add(log_a, log_term);
  }
  return log_a;
}

// log(A_alpha) for fractional alpha: the two-sided series of Mironov et al.
// 2019 (Section 3.3), split at z0 where the two Gaussians' likelihood ratio
// crosses (1 - q) / q.
Result<double> log_a_fractional(double q, double sigma, double alpha) {
  const double log_q = std::log(q);
  const double log_1mq = std::log1p(-q);
  const double two_s2 = 2 * sigma * sigma;
  const double z0 = sigma * sigma * (log_1mq - log_q) + 0.5;
  const double erfc_scale = std::numbers::sqrt2 * sigma;
  double log_a0 = -kInf;
  double log_a1 = -kInf;
  double log_coef = 0;   // log |C(alpha, i)|
  bool positive = true;  // sign of C(alpha, i)
  for (int i = 0; i < kMaxSeriesTerms; ++i) {
    const double j = alpha - i;
    const double log_e0 = std::log(0.5) + log_erfc((i - z0) / erfc_scale);
    const double log_e1 = std::log(0.5) + log_erfc((z0 - j) / erfc_scale);
    const double log_s0 =
        log_coef + i * log_q + j * log_1mq + (static_cast<double>(i) * i - i) / two_s2 + log_e0;
    const double log_s1 = log_coef + j * log_q + i * log_1mq + (j * j - j) / two_s2 + log_e1;
    if (positive) {
      log_a0 = log_add(log_a0, log_s0);
      log_a1 = log_add(log_a1, log_s1);
    } else {
      auto a0 = log_sub(log_a0, log_s0);
      auto a1 = log_sub(log_a1, log_s1);
      if (!a0 || !a1) {
        return make_error(ErrorCode::kInternal, "RDP series lost precision at order " +
                                                    number_text(alpha) + ", term " +
                                                    std::to_string(i));
      }
      log_a0 = *a0;
      log_a1 = *a1;
    }
    if (std::max(log_s0, log_s1) < -30) return log_add(log_a0, log_a1);
    log_coef += std::log(std::abs(alpha - i)) - std::log(i + 1.0);
    if (alpha - i < 0) positive = !positive;
  }
  return make_error(ErrorCode::kInternal,
                    "RDP series did not converge at order " + number_text(alpha));
}

Status check_mechanism(double q, double sigma) {
  if (!(q >= 0 && q <= 1)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "sampling probability q = " + number_text(q) + " is outside [0, 1]");
  }
  if (!(sigma >= 0) || !std::isfinite(sigma)) {
    return make_error(
        ErrorCode::kInvalidArgument,
        "noise multiplier sigma = " + number_text(sigma) + " must be a finite number >= 0");
  }
  return ok_status();
}

Status check_order(double order) {
  if (!(order > 1 && order <= kMaxOrder)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "RDP order " + number_text(order) + " must be above 1 and at most 10000");
  }
  return ok_status();
}

Status check_delta(double delta) {
  if (!(delta > 0 && delta < 1)) {
    return make_error(ErrorCode::kInvalidArgument,
                      "delta = " + number_text(delta) + " is outside (0, 1)");
  }
  return ok_status();
}

// Epsilon at one order; +inf where the RDP is.
double epsilon_at(double order, double rdp, double delta, RdpConversion conversion) {
  if (std::isinf(rdp)) return kInf;
  if (conversion == RdpConversion::kMironov2017) return rdp - std::log(delta) / (order - 1);
  // Below the KL bound delta >= sqrt(1 - exp(-rdp)) the mechanism is (0,
  // delta)-DP outright (as TF Privacy's dp_accounting does); this makes q = 0
  // cost nothing.
  if (delta * delta + std::expm1(-rdp) >= 0) return 0;
  return rdp - (std::log(delta) + std::log(order)) / (order - 1) + std::log1p(-1 / order);
}

}  // namespace

std::vector<double> default_rdp_orders() {
  std::vector<double> orders;
  // 1 + x / 10.0, as Opacus writes it, so the orders are the same doubles.
  for (int x = 1; x < 100; ++x) orders.push_back(1 + x / 10.0);
  for (int order = 12; order < 64; ++order) orders.push_back(order);
  return orders;
}

Result<double> rdp_sampled_gaussian(double q, double sigma, double order) {
  FL_RETURN_IF_ERROR(check_mechanism(q, sigma));
  FL_RETURN_IF_ERROR(check_order(order));
  if (q == 0) return 0.0;
  if (sigma == 0) return kInf;
  if (q == 1) return order / (2 * sigma * sigma);
  if (std::floor(order) == order) {
    return log_a_integer(q, sigma, static_cast<int>(order)) / (order - 1);
  }
  FL_ASSIGN_OR_RETURN(const double log_a, log_a_fractional(q, sigma, order));
  return log_a / (order - 1);
}

Result<std::vector<double>> rdp_sampled_gaussian(double q, double sigma, std::int64_t rounds,
                                                 std::span<const double> orders) {
  if (rounds < 0) {
    return make_error(ErrorCode::kInvalidArgument,
                      "rounds = " + std::to_string(rounds) + " must be >= 0");
  }
  std::vector<double> rdp;
  rdp.reserve(orders.size());
  for (const double order : orders) {
    FL_ASSIGN_OR_RETURN(const double one_round, rdp_sampled_gaussian(q, sigma, order));
    // Zero rounds spend nothing, even where one round's RDP is infinite (0 *
    // inf is NaN).
    rdp.push_back(rounds == 0 ? 0.0 : one_round * static_cast<double>(rounds));
  }
  return rdp;
}

Result<RdpConversion> parse_rdp_conversion(std::string_view name) {
  if (name == "balle2020") return RdpConversion::kBalle2020;
  if (name == "mironov2017") return RdpConversion::kMironov2017;
  return make_error(ErrorCode::kInvalidArgument,
                    "RDP conversion '" + std::string(name) + "' is not balle2020 or mironov2017");
}

std::string_view to_string(RdpConversion conversion) {
  return conversion == RdpConversion::kBalle2020 ? "balle2020" : "mironov2017";
}

Result<EpsilonAtOrder> epsilon_from_rdp(std::span<const double> orders, std::span<const double> rdp,
                                        double delta, RdpConversion conversion) {
  FL_RETURN_IF_ERROR(check_delta(delta));
  if (orders.empty() || orders.size() != rdp.size()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::to_string(orders.size()) + " RDP orders for " +
                          std::to_string(rdp.size()) + " RDP values (need the same, at least 1)");
  }
  EpsilonAtOrder best{kInf, std::numeric_limits<double>::quiet_NaN()};
  for (std::size_t i = 0; i < orders.size(); ++i) {
    FL_RETURN_IF_ERROR(check_order(orders[i]));
    if (!(rdp[i] >= 0)) {
      return make_error(ErrorCode::kInvalidArgument, "RDP " + number_text(rdp[i]) + " at order " +
                                                         number_text(orders[i]) + " must be >= 0");
    }
    const double epsilon = epsilon_at(orders[i], rdp[i], delta, conversion);
    if (epsilon < best.epsilon) best = {epsilon, orders[i]};
  }
  // A negative bound still certifies (0, delta)-DP.
  best.epsilon = std::max(best.epsilon, 0.0);
  return best;
}

Result<PrivacySpent> privacy_spent(const SampledGaussianQuery &query,
                                   std::span<const double> orders) {
  FL_RETURN_IF_ERROR(check_mechanism(query.q, query.sigma));
  FL_RETURN_IF_ERROR(check_delta(query.delta));
  PrivacySpent spent{query, {}, {}, {}};
  if (orders.empty()) {
    spent.orders = default_rdp_orders();
  } else {
    spent.orders.assign(orders.begin(), orders.end());
  }
  FL_ASSIGN_OR_RETURN(spent.rdp,
                      rdp_sampled_gaussian(query.q, query.sigma, query.rounds, spent.orders));
  FL_ASSIGN_OR_RETURN(spent.best,
                      epsilon_from_rdp(spent.orders, spent.rdp, query.delta, query.conversion));
  return spent;
}

std::string privacy_spent_text(const PrivacySpent &spent) {
  const SampledGaussianQuery &query = spent.query;
  std::ostringstream out;
  out.precision(6);
  out << "epsilon = " << spent.best.epsilon << " at delta = " << query.delta;
  if (std::isinf(spent.best.epsilon)) {
    out << " (no RDP order gives a finite bound)\n";
  } else {
    out << " (best RDP order " << number_text(spent.best.order) << ")\n";
  }
  out << "sampled Gaussian mechanism: q = " << query.q << ", sigma = " << query.sigma << ", "
      << query.rounds << " rounds; conversion " << to_string(query.conversion) << "\n";
  return out.str();
}

std::string privacy_spent_json(const PrivacySpent &spent) {
  // ordered_json keeps the orders ascending, as computed, rather than sorted as
  // strings.
  nlohmann::ordered_json rdp = nlohmann::ordered_json::object();
  for (std::size_t i = 0; i < spent.orders.size(); ++i)
    rdp[number_text(spent.orders[i])] = spent.rdp[i];
  nlohmann::ordered_json doc = {
      {"epsilon", spent.best.epsilon},  // nlohmann writes inf and NaN as null
      {"order", spent.best.order},
      {"delta", spent.query.delta},
      {"q", spent.query.q},
      {"sigma", spent.query.sigma},
      {"rounds", spent.query.rounds},
      {"conversion", std::string(to_string(spent.query.conversion))},
      {"rdp", std::move(rdp)},
  };
  return doc.dump(2) + "\n";
}

}  // namespace fl::common
