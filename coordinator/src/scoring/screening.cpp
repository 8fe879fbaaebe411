#include "fl/coordinator/scoring/screening.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <numeric>

#include "fl/coordinator/contribution.hpp"
#include "fl/coordinator/update_bounds.hpp"

namespace fl::coordinator {

namespace {

constexpr std::size_t kSketchSize = 1024;
// Exact pairwise cosines up to this many updates; count sketches beyond.
constexpr std::size_t kExactPairsUpTo = 64;

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

std::string round_text(std::uint64_t round) { return "round " + std::to_string(round); }

// Union-find over update indices, for copy groups.
struct Groups {
  std::vector<std::size_t> parent;
  explicit Groups(std::size_t n) : parent(n) { std::iota(parent.begin(), parent.end(), 0); }
  std::size_t find(std::size_t i) {
    while (parent[i] != i) i = parent[i] = parent[parent[i]];
    return i;
  }
  void join(std::size_t a, std::size_t b) { parent[find(a)] = find(b); }
};

double dot(std::span<const float> a, std::span<const double> b) {
  double d = 0;
  for (std::size_t k = 0; k < a.size(); ++k) d += a[k] * b[k];
  return d;
}

// Cosine of u with the sum of the other updates (sum - u), from dot products only: the mean of
// the others points the same way, so this is the cosine with what the others agree on.
double cosine_with_others(double u_norm, double u_sum, double sum_sq) {
  const double others_sq = sum_sq - 2 * u_sum + u_norm * u_norm;
  const double d = u_sum - u_norm * u_norm;
  return u_norm == 0 || others_sq <= 0 ? 0 : d / (u_norm * std::sqrt(others_sq));
}

// The cosine of u with the others' mean (sum - u) once both have the direction g taken out:
// what u carries besides g, against what the others carry besides g. From dot products only:
// u_sum = u.sum, u_g = u.g, sum_g = sum.g, g_g = g.g.
double cosine_besides(double u_norm, double u_sum, double u_g, double sum_sq, double sum_g, double g_g) {
  if (g_g <= 0) return 1;
  const double u_m = u_sum - u_norm * u_norm, m_g = sum_g - u_g, m_m = sum_sq - 2 * u_sum + u_norm * u_norm;
  const double r_dot = u_m - u_g * m_g / g_g;
  const double r_u = u_norm * u_norm - u_g * u_g / g_g, r_m = m_m - m_g * m_g / g_g;
  return r_u <= 0 || r_m <= 0 ? 1 : r_dot / std::sqrt(r_u * r_m);
}

constexpr double kGaussianLikeness = 0.75;  // sqrt(2 / pi) ~ 0.80 for Gaussian noise

// How much r = u - a g (u with its component along g taken out) looks like isotropic Gaussian
// noise: ||r||_1 / (sqrt(dim) ||r||_2), sqrt(2 / pi) ~ 0.80 for i.i.d. Gaussian coordinates and
// far lower for a trained update, whose change concentrates on some of the parameters.
double gaussian_likeness(std::span<const float> u, std::span<const float> g, double a) {
  double l1 = 0, l2 = 0;
  for (std::size_t k = 0; k < u.size() && k < g.size(); ++k) {
    const double r = u[k] - a * g[k];
    l1 += std::abs(r);
    l2 += r * r;
  }
  return l2 <= 0 ? 0 : l1 / std::sqrt(static_cast<double>(u.size()) * l2);
}

std::string number_text(double c) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", c);
  return buf;
}

}  // namespace

Status read_screening_settings(const common::ConfigTable& s, ScreeningSettings& out) {
  FL_ASSIGN_OR_RETURN(out.enabled, s.boolean("screen_free_riders", out.enabled));
  FL_ASSIGN_OR_RETURN(out.zero_norm_fraction, s.number("zero_norm_fraction", out.zero_norm_fraction, 0, 1));
  FL_ASSIGN_OR_RETURN(out.replay_cosine, s.number("replay_cosine", out.replay_cosine, 0.5, 1));
  FL_ASSIGN_OR_RETURN(out.duplicate_cosine, s.number("duplicate_cosine", out.duplicate_cosine, 0.5, 1));
  FL_ASSIGN_OR_RETURN(out.noise_sigmas, s.number("noise_sigmas", out.noise_sigmas, 0, 100));
  FL_ASSIGN_OR_RETURN(auto rounds, s.integer("history_rounds", out.history_rounds, 1, 100));
  out.history_rounds = static_cast<int>(rounds);
  FL_ASSIGN_OR_RETURN(out.relative, s.number("screen_relative", out.relative, 0, 1));
  return ok_status();
}

std::vector<float> count_sketch(std::span<const float> v) {
  if (v.size() <= kSketchSize) return {v.begin(), v.end()};
  std::vector<float> out(kSketchSize, 0.0f);
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto h = splitmix64(i);
    const float sign = (h >> 63) != 0 ? -1.0f : 1.0f;
    out[h % kSketchSize] += sign * v[i];
  }
  return out;
}

void ScreeningHistory::record_round(std::uint64_t round, std::span<const float> global_change,
                                    std::span<const common::PublicKey> workers,
                                    std::span<const std::span<const float>> updates) {
  global_changes_.push_front({round, {global_change.begin(), global_change.end()}});
  while (global_changes_.size() > static_cast<std::size_t>(rounds_)) global_changes_.pop_back();
  for (std::size_t i = 0; i < workers.size() && i < updates.size(); ++i) {
    auto& own = own_[workers[i]];
    own.push_front({round, count_sketch(updates[i])});
    while (own.size() > static_cast<std::size_t>(rounds_)) own.pop_back();
  }
}

const std::deque<ScreeningHistory::OwnUpdate>* ScreeningHistory::own_updates(
    const common::PublicKey& worker) const {
  const auto it = own_.find(worker);
  return it == own_.end() ? nullptr : &it->second;
}

int Screening::flagged() const {
  return static_cast<int>(std::count_if(reasons.begin(), reasons.end(),
                                        [](const std::string& r) { return !r.empty(); }));
}

Screening screen_updates(const ScreeningInput& in, const ScreeningHistory& history,
                         const ScreeningSettings& s) {
  const std::size_t n = in.updates.size();
  Screening out;
  out.reasons.assign(n, "");
  out.copy_group.assign(n, -1);
  if (!s.enabled || n == 0) return out;
  std::vector<double> norms;
  for (auto u : in.updates) norms.push_back(l2_norm(u));
  const double median_norm = median(norms);
  const std::size_t dim = in.updates[0].size();
  std::vector<double> sum(dim, 0.0);
  for (auto u : in.updates) {
    for (std::size_t k = 0; k < dim && k < u.size(); ++k) sum[k] += u[k];
  }
  double sum_sq = 0;
  for (double x : sum) sum_sq += x * x;

  // Cosine of every update with each remembered global change, and how far from it the
  // round's updates typically are (the median of 1 - cosine): an honest federation can follow
  // the last change closely, a replay follows it far more closely than the others do.
  std::vector<std::vector<double>> replay_cosines;
  std::vector<double> replay_typical;
  for (const auto& g : history.global_changes()) {
    if (g.change.size() != dim) break;
    auto& cs = replay_cosines.emplace_back();
    std::vector<double> distances;
    for (auto u : in.updates) {
      cs.push_back(u.size() == dim ? cosine_similarity(u, g.change) : 0.0);
      distances.push_back(1 - cs.back());
    }
    replay_typical.push_back(median(distances));
  }
  // What each update carries besides each remembered change, against what the others carry
  // besides it (cosine_besides), and the round's typical (median) size of that.
  std::vector<double> u_sums;  // u.sum, once per update
  for (auto u : in.updates) u_sums.push_back(u.size() == dim ? dot(u, sum) : 0.0);
  std::vector<std::vector<double>> besides;
  std::vector<double> besides_typical, change_norms;
  for (std::size_t g_index = 0; g_index < replay_cosines.size(); ++g_index) {
    const auto& g = history.global_changes()[g_index].change;
    const double g_norm = change_norms.emplace_back(l2_norm(g));
    const double sum_g = dot(g, sum);
    auto& bs = besides.emplace_back();
    std::vector<double> sizes;
    for (std::size_t i = 0; i < n; ++i) {
      const double u_g = replay_cosines[g_index][i] * norms[i] * g_norm;
      bs.push_back(in.updates[i].size() == dim
                       ? cosine_besides(norms[i], u_sums[i], u_g, sum_sq, sum_g, g_norm * g_norm)
                       : 1.0);
      sizes.push_back(std::abs(bs.back()));
    }
    besides_typical.push_back(median(sizes));
  }
  for (std::size_t i = 0; i < n; ++i) {
    const auto u = in.updates[i];
    if (u.size() != dim) continue;  // close_round refuses mismatched updates before this
    if (norms[i] <= s.zero_norm_fraction * median_norm || norms[i] == 0) {
      out.reasons[i] = "zero update (norm below " + number_text(s.zero_norm_fraction) + " x the median)";
      continue;
    }
    for (std::size_t g_index = 0; g_index < replay_cosines.size(); ++g_index) {
      const auto& g = history.global_changes()[g_index];
      const double c = replay_cosines[g_index][i];
      if (c >= s.replay_cosine && (1 - c) <= s.relative * replay_typical[g_index]) {
        out.reasons[i] = "replays the global change of " + round_text(g.round) + " (cosine " + number_text(c) + ")";
        break;
      }
    }
    if (!out.reasons[i].empty()) continue;
    if (const auto* own = i < in.workers.size() ? history.own_updates(in.workers[i]) : nullptr) {
      const auto sketch = count_sketch(u);
      for (const auto& prev : *own) {
        const double c = cosine_similarity(sketch, prev.sketch);
        if (c >= s.replay_cosine && (1 - c) <= s.relative * (1 - s.replay_cosine)) {
          out.reasons[i] = "repeats its own update of " + round_text(prev.round) + " (cosine " + number_text(c) + ")";
          break;
        }
      }
    }
    if (!out.reasons[i].empty()) continue;
    if (n >= 3 && s.noise_sigmas > 0) {
      const double band = s.noise_sigmas / std::sqrt(static_cast<double>(dim));
      const double c = cosine_with_others(norms[i], u_sums[i], sum_sq);
      if (std::abs(c) <= band) {
        out.reasons[i] = "no more signal than noise (cosine " + number_text(c) + " with the others' mean)";
        continue;
      }
      // A replayed global change hidden under noise: it points along the change, what it
      // carries besides the change has no more signal than noise while the round's updates
      // typically carry far more, and that remainder looks like the Gaussian noise anyone can
      // draw (an honest update that mostly follows the last change has a structured remainder).
      for (std::size_t g_index = 0; g_index < besides.size(); ++g_index) {
        const double b = besides[g_index][i];
        if (replay_cosines[g_index][i] <= 0 || std::abs(b) > band || band > s.relative * besides_typical[g_index]) {
          continue;
        }
        const auto& change = history.global_changes()[g_index].change;
        const double change_norm = change_norms[g_index];
        const double along = change_norm > 0 ? replay_cosines[g_index][i] * norms[i] / change_norm : 0;
        if (gaussian_likeness(u, change, along) >= kGaussianLikeness) {
          out.reasons[i] = "replays the global change of " + round_text(history.global_changes()[g_index].round) +
                           " under noise (besides it, cosine " + number_text(b) + " with the others' mean)";
          break;
        }
      }
    }
  }

  Groups groups(n);
  std::vector<std::vector<float>> sketches;
  if (n > kExactPairsUpTo) {
    for (auto u : in.updates) sketches.push_back(count_sketch(u));
  }
  std::vector<double> pair_cosines, pair_distances;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      pair_cosines.push_back(sketches.empty() ? cosine_similarity(in.updates[i], in.updates[j])
                                              : cosine_similarity(sketches[i], sketches[j]));
      pair_distances.push_back(1 - pair_cosines.back());
    }
  }
  const double typical = median(pair_distances);
  std::size_t pair = 0;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j, ++pair) {
      const bool same_data = !in.fingerprints.empty() && !in.fingerprints[i].empty() &&
                             in.fingerprints[i] == in.fingerprints[j];
      const double c = pair_cosines[pair];
      if (same_data || (c >= s.duplicate_cosine && (1 - c) <= s.relative * typical)) {
        groups.join(i, j);
      }
    }
  }
  std::map<std::size_t, int> ids;
  std::vector<std::size_t> members(n, 0);
  for (std::size_t i = 0; i < n; ++i) ++members[groups.find(i)];
  for (std::size_t i = 0; i < n; ++i) {
    const auto root = groups.find(i);
    if (members[root] < 2) continue;
    const auto [it, fresh] = ids.emplace(root, static_cast<int>(ids.size()));
    out.copy_group[i] = it->second;
  }
  return out;
}

std::vector<double> apply_screening(std::span<const double> scores, const Screening& screening) {
  std::vector<double> out(scores.begin(), scores.end());
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (!screening.reasons[i].empty()) out[i] = 0;
  }
  std::map<int, std::pair<double, int>> groups;  // id -> (sum, members)
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (screening.copy_group[i] < 0) continue;
    auto& g = groups[screening.copy_group[i]];
    g.first += out[i];
    ++g.second;
  }
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (screening.copy_group[i] < 0) continue;
    const auto& g = groups[screening.copy_group[i]];
    out[i] = g.first / g.second / g.second;
  }
  return out;
}

}  // namespace fl::coordinator
