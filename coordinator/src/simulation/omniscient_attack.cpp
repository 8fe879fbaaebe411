#include "fl/coordinator/simulation/omniscient_attack.hpp"

#include <cmath>
#include <limits>
#include <numbers>
#include <string>

namespace fl::coordinator {
namespace {

Status check_honest(std::span<const std::span<const float>> honest, const char* attack) {
  if (honest.empty()) {
    return make_error(ErrorCode::kInvalidArgument,
                      std::string(attack) + ": needs at least one honest update");
  }
  for (std::size_t i = 1; i < honest.size(); ++i) {
    if (honest[i].size() != honest[0].size()) {
      return make_error(ErrorCode::kInvalidArgument,
                        std::string(attack) + ": honest update " + std::to_string(i) + " has " +
                            std::to_string(honest[i].size()) + " values, update 0 has " +
                            std::to_string(honest[0].size()));
    }
  }
  return ok_status();
}

// Per-coordinate mean of the honest updates, accumulated in double.
std::vector<double> coordinate_mean(std::span<const std::span<const float>> honest) {
  std::vector<double> mean(honest[0].size(), 0.0);
  for (const auto& u : honest) {
    for (std::size_t j = 0; j < u.size(); ++j) mean[j] += u[j];
  }
  const double inv = 1.0 / static_cast<double>(honest.size());
  for (double& m : mean) m *= inv;
  return mean;
}

}  // namespace

double inverse_normal_cdf(double p) {
  if (!(p > 0.0 && p < 1.0)) {
    if (p == 0.0) return -std::numeric_limits<double>::infinity();
    if (p == 1.0) return std::numeric_limits<double>::infinity();
    return std::numeric_limits<double>::quiet_NaN();
  }
  // P. J. Acklam's rational approximation (relative error < 1.15e-9) ...
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double kLow = 0.02425;
  double x = 0;
  if (p < kLow || p > 1 - kLow) {
    const double q = std::sqrt(-2 * std::log(p < kLow ? p : 1 - p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
    if (p > 1 - kLow) x = -x;
  } else {
    const double q = p - 0.5;
    const double r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  }
  // ... refined by one step of Halley's method on the exact CDF.
  const double e = 0.5 * std::erfc(-x / std::numbers::sqrt2) - p;
  const double u = e * std::sqrt(2 * std::numbers::pi) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

Result<AlieThreshold> alie_threshold(int n, int f) {
  if (n <= 0 || f <= 0 || f >= n) {
    return make_error(ErrorCode::kInvalidArgument, "alie: needs 0 < f < n, got n = " +
                                                       std::to_string(n) + ", f = " +
                                                       std::to_string(f));
  }
  AlieThreshold t;
  t.s = n / 2 + 1 - f;  // floor(n/2 + 1) - f
  if (t.s <= 0 || t.s >= n) {
    return make_error(ErrorCode::kInvalidArgument,
                      "alie: s = floor(n/2 + 1) - f = " + std::to_string(t.s) + " for n = " +
                          std::to_string(n) + ", f = " + std::to_string(f) +
                          " leaves no z (needs 0 < s < n)");
  }
  t.z = inverse_normal_cdf(static_cast<double>(n - t.s) / n);
  return t;
}

Result<std::vector<float>> alie_update(std::span<const std::span<const float>> honest, double z) {
  FL_RETURN_IF_ERROR(check_honest(honest, "alie"));
  const auto mean = coordinate_mean(honest);
  std::vector<double> var(mean.size(), 0.0);
  for (const auto& u : honest) {
    for (std::size_t j = 0; j < u.size(); ++j) {
      const double dev = u[j] - mean[j];
      var[j] += dev * dev;
    }
  }
  const double inv = 1.0 / static_cast<double>(honest.size());
  std::vector<float> out(mean.size());
  for (std::size_t j = 0; j < out.size(); ++j) {
    out[j] = static_cast<float>(mean[j] + z * std::sqrt(var[j] * inv));
  }
  return out;
}

Result<std::vector<float>> ipm_update(std::span<const std::span<const float>> honest,
                                      double epsilon) {
  FL_RETURN_IF_ERROR(check_honest(honest, "ipm"));
  const auto mean = coordinate_mean(honest);
  std::vector<float> out(mean.size());
  for (std::size_t j = 0; j < out.size(); ++j) out[j] = static_cast<float>(-epsilon * mean[j]);
  return out;
}

}  // namespace fl::coordinator
