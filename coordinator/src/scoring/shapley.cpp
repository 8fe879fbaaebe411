#include "fl/coordinator/scoring/shapley.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fl::coordinator {

Result<std::vector<double>> exact_shapley(std::size_t n, const CoalitionUtility& utility) {
  if (n > 20) {
    return make_error(ErrorCode::kLimitExceeded,
                      "exact Shapley values of " + std::to_string(n) +
                          " players need 2^n utilities; at most 20 players");
  }
  const std::uint64_t subsets = std::uint64_t{1} << n;
  std::vector<double> value(subsets, 0.0);
  std::vector<std::size_t> members;
  for (std::uint64_t mask = 0; mask < subsets; ++mask) {
    members.clear();
    for (std::size_t i = 0; i < n; ++i) {
      if ((mask >> i) & 1) members.push_back(i);
    }
    FL_ASSIGN_OR_RETURN(value[mask], utility(members));
  }
  // weight[s] = s! (n - s - 1)! / n!
  std::vector<double> weight(n, 0.0);
  for (std::size_t s = 0; s < n; ++s) {
    weight[s] = std::exp(std::lgamma(static_cast<double>(s) + 1) +
                         std::lgamma(static_cast<double>(n - s)) -
                         std::lgamma(static_cast<double>(n) + 1));
  }
  std::vector<double> phi(n, 0.0);
  for (std::uint64_t mask = 0; mask < subsets; ++mask) {
    const auto size = static_cast<std::size_t>(std::popcount(mask));
    for (std::size_t i = 0; i < n; ++i) {
      if ((mask >> i) & 1) continue;
      phi[i] += weight[size] * (value[mask | (std::uint64_t{1} << i)] - value[mask]);
    }
  }
  return phi;
}

namespace {

std::vector<double> ranks(std::span<const double> v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](auto a, auto b) { return v[a] < v[b]; });
  std::vector<double> r(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double average = (static_cast<double>(i) + static_cast<double>(j)) / 2 + 1;
    for (std::size_t k = i; k <= j; ++k) r[order[k]] = average;
    i = j + 1;
  }
  return r;
}

}  // namespace

double spearman(std::span<const double> a, std::span<const double> b) {
  if (a.size() != b.size() || a.size() < 2) return 0;
  const auto ra = ranks(a), rb = ranks(b);
  const double ma = std::accumulate(ra.begin(), ra.end(), 0.0) / static_cast<double>(ra.size());
  const double mb = std::accumulate(rb.begin(), rb.end(), 0.0) / static_cast<double>(rb.size());
  double cov = 0, va = 0, vb = 0;
  for (std::size_t i = 0; i < ra.size(); ++i) {
    cov += (ra[i] - ma) * (rb[i] - mb);
    va += (ra[i] - ma) * (ra[i] - ma);
    vb += (rb[i] - mb) * (rb[i] - mb);
  }
  return va == 0 || vb == 0 ? 0 : cov / std::sqrt(va * vb);
}

}  // namespace fl::coordinator
