#include "fl/coordinator/scoring/shapley.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>

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

bool exact_within_sampling_budget(std::size_t n, const GtgSampling& sampling) {
  return n <= 20 && (std::uint64_t{1} << n) <= static_cast<std::uint64_t>(std::max(sampling.max_cycles, 0)) * n * n;
}

Result<std::vector<double>> gtg_sampled_shapley(std::size_t n, double before, double full, std::uint64_t seed,
                                                const PermutationWalk& walk, const GtgSampling& sampling) {
  std::mt19937_64 rng(seed);
  std::vector<double> sv(n, 0.0), previous_cycle(n, 0.0);
  std::int64_t permutations = 0;
  std::vector<std::size_t> order(n);
  for (int cycle = 0; cycle < sampling.max_cycles; ++cycle) {
    for (std::size_t lead = 0; lead < n; ++lead) {
      order.clear();
      order.push_back(lead);
      for (std::size_t i = 0; i < n; ++i) {
        if (i != lead) order.push_back(i);
      }
      std::shuffle(order.begin() + 1, order.end(), rng);
      ++permutations;
      walk.reset();
      double prev = before;
      for (auto i : order) {
        double marginal = 0;
        if (std::abs(full - prev) >= sampling.prefix_truncation) {
          FL_ASSIGN_OR_RETURN(const double now, walk.add(i));  // past the truncation: not needed
          marginal = now - prev;
          prev = now;
        }
        sv[i] += (marginal - sv[i]) / static_cast<double>(permutations);
      }
    }
    double moved = 0, size = 0;
    for (std::size_t i = 0; i < n; ++i) {
      moved += std::abs(sv[i] - previous_cycle[i]);
      size += std::abs(sv[i]);
    }
    if (cycle > 0 && moved <= sampling.convergence * size) break;
    previous_cycle = sv;
  }
  return sv;
}

OutputGame::OutputGame(const ValidationOutputs& outputs, std::span<const double> weights, Utility utility)
    : out_(outputs), weights_(weights.begin(), weights.end()), utility_(utility) {
  if (weights_.empty()) weights_.assign(outputs.changes.size(), 1.0);
}

Status OutputGame::check() const {
  const auto cells = static_cast<std::size_t>(out_.examples * out_.classes);
  if (out_.examples <= 0 || out_.classes <= 0 || out_.base.size() != cells ||
      out_.labels.size() != static_cast<std::size_t>(out_.examples) || weights_.size() != out_.changes.size()) {
    return make_error(ErrorCode::kInvalidArgument, "output game: the validation outputs do not match their shape");
  }
  for (const auto& c : out_.changes) {
    if (c.size() != cells) {
      return make_error(ErrorCode::kInvalidArgument, "output game: an update's outputs do not match the global's");
    }
  }
  for (auto y : out_.labels) {
    if (y < 0 || y >= out_.classes) return make_error(ErrorCode::kInvalidArgument, "output game: a label out of range");
  }
  return ok_status();
}

OutputGame::Coalition OutputGame::empty() const {
  return Coalition{std::vector<float>(out_.base.size(), 0.0f), 0.0};
}

void OutputGame::step(Coalition& c, std::size_t i, double sign) const {
  const auto w = static_cast<float>(sign * weights_[i]);
  const auto& change = out_.changes[i];
  for (std::size_t k = 0; k < c.sum.size(); ++k) c.sum[k] += w * change[k];
  c.total += sign * weights_[i];
}

double OutputGame::value(const Coalition& c) const {
  const auto classes = static_cast<std::size_t>(out_.classes);
  const auto examples = static_cast<std::size_t>(out_.examples);
  const float scale = c.total > 1e-12 ? static_cast<float>(1.0 / c.total) : 0.0f;
  if (utility_ == Utility::kAccuracy) {  // the hot path: an argmax per example
    std::int64_t correct = 0;
    for (std::size_t e = 0; e < examples; ++e) {
      const float* b = out_.base.data() + e * classes;
      const float* s = c.sum.data() + e * classes;
      std::size_t best = 0;
      float top = b[0] + scale * s[0];
      for (std::size_t k = 1; k < classes; ++k) {
        const float z = b[k] + scale * s[k];
        if (z > top) top = z, best = k;
      }
      correct += best == static_cast<std::size_t>(out_.labels[e]);
    }
    return static_cast<double>(correct) / static_cast<double>(examples);
  }
  std::vector<float> z(classes);
  double loss = 0;
  for (std::size_t e = 0; e < examples; ++e) {
    const float* b = out_.base.data() + e * classes;
    const float* s = c.sum.data() + e * classes;
    float top = -std::numeric_limits<float>::infinity();
    for (std::size_t k = 0; k < classes; ++k) {
      z[k] = b[k] + scale * s[k];
      top = std::max(top, z[k]);
    }
    double total = 0;
    for (std::size_t k = 0; k < classes; ++k) total += std::exp(static_cast<double>(z[k] - top));
    loss += std::log(total) + top - z[static_cast<std::size_t>(out_.labels[e])];
  }
  return -loss / static_cast<double>(examples);
}

Result<std::vector<double>> output_game_shapley(const OutputGame& game, std::uint64_t seed,
                                                std::int64_t& evaluations, double round_truncation,
                                                const GtgSampling& sampling) {
  FL_RETURN_IF_ERROR(game.check());
  const std::size_t n = game.players();
  evaluations = 0;
  auto c = game.empty();
  const double before = game.value(c);
  for (std::size_t i = 0; i < n; ++i) game.add(c, i);
  const double full = game.value(c);
  evaluations = 2;
  if (std::abs(full - before) < round_truncation) return std::vector<double>(n, 0.0);
  if (exact_within_sampling_budget(n, sampling)) {
    // Gray-code order: coalition k differs from k - 1 by one member.
    std::vector<double> value(std::size_t{1} << n);
    auto walk = game.empty();
    std::uint64_t mask = 0;
    value[0] = before;
    for (std::uint64_t k = 1; k < value.size(); ++k) {
      const auto bit = static_cast<std::size_t>(std::countr_zero(k));
      mask ^= std::uint64_t{1} << bit;
      if ((mask >> bit) & 1) {
        game.add(walk, bit);
      } else {
        game.remove(walk, bit);
      }
      value[mask] = game.value(walk);
    }
    evaluations = static_cast<std::int64_t>(value.size());
    return exact_shapley(n, [&](std::span<const std::size_t> members) -> Result<double> {
      std::uint64_t m = 0;
      for (auto i : members) m |= std::uint64_t{1} << i;
      return value[m];
    });
  }
  PermutationWalk walk{[&] { c = game.empty(); },
                       [&](std::size_t i) -> Result<double> {
                         game.add(c, i);
                         ++evaluations;
                         return game.value(c);
                       }};
  return gtg_sampled_shapley(n, before, full, seed, walk, sampling);
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
