#include "fl/coordinator/scoring/screening.hpp"

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdio>
#include <map>
#include <mutex>
#include <numeric>

#include "fl/coordinator/aggregation/distances.hpp"
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

// Each coordinate's bucket and sign in a count sketch, from a seeded hash of its index.
constexpr std::uint32_t kBucketMask = kSketchSize - 1, kNegative = 1u << 31;
static_assert((kSketchSize & (kSketchSize - 1)) == 0);
std::uint32_t sketch_entry(std::size_t i) {
  const auto h = splitmix64(i);
  return static_cast<std::uint32_t>(h % kSketchSize) | ((h >> 63) != 0 ? kNegative : 0u);
}

// The entries for a model size, hashed once per process (4 bytes a parameter, for models up to
// 2^26 parameters; larger ones are hashed as they are sketched).
const std::vector<std::uint32_t>* sketch_plan(std::size_t dim) {
  if (dim > (std::size_t{1} << 26)) return nullptr;
  static std::mutex mutex;
  static std::map<std::size_t, std::vector<std::uint32_t>> plans;  // never erased: stable
  const std::lock_guard lock(mutex);
  auto [it, fresh] = plans.try_emplace(dim);
  if (fresh) {
    it->second.resize(dim);
    for (std::size_t i = 0; i < dim; ++i) it->second[i] = sketch_entry(i);
  }
  return &it->second;
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
  for (std::size_t k = 0; k < u.size(); ++k) {
    const double r = u[k] - (k < g.size() ? a * g[k] : 0.0);
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

double cosine_from(double dot_product, double a_norm, double b_norm) {
  return a_norm > 0 && b_norm > 0 ? dot_product / (a_norm * b_norm) : 0.0;
}

// The dot products screening reads. pairs: <u_i, u_j>, row-major n x n, or empty when the
// copies are compared by their sketches instead.
struct Products {
  std::vector<double> norms, u_sum;            // per update: ||u||, <u, sum of the updates>
  double sum_sq = 0;                           // ||sum||^2
  std::vector<std::vector<double>> u_g;        // per change, per update: <u, g>
  std::vector<double> change_norms, sum_g;     // per change: ||g||, <sum, g>
  std::vector<double> pairs;
};

// Up to kExactPairsUpTo updates: one Gram matrix of the updates and the changes (its row sums
// over the updates give <u, sum>, its total ||sum||^2), in double by a fixed split of the
// coordinates (aggregation/distances.hpp). An update of another size counts as zero.
Products products_from_gram(std::span<const std::span<const float>> updates,
                            const std::deque<ScreeningHistory::GlobalChange>& changes, std::size_t h,
                            std::size_t dim) {
  const std::size_t n = updates.size();
  std::vector<float> zeros;  // stands in for an update of another size, only when there is one
  std::vector<std::span<const float>> rows;
  for (auto u : updates) {
    if (u.size() != dim && zeros.empty()) zeros.assign(dim, 0.0f);
    rows.push_back(u.size() == dim ? u : std::span<const float>(zeros));
  }
  for (std::size_t g = 0; g < h; ++g) rows.push_back(changes[g].change);
  const std::size_t m = rows.size();
  const auto gram = gram_matrix(rows);
  Products p;
  p.u_sum.assign(n, 0.0);
  p.u_g.assign(h, std::vector<double>(n, 0.0));
  p.sum_g.assign(h, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    p.norms.push_back(updates[i].size() == dim ? std::sqrt(gram[i * m + i]) : l2_norm(updates[i]));
    for (std::size_t j = 0; j < n; ++j) p.u_sum[i] += gram[i * m + j];
    p.sum_sq += p.u_sum[i];
    for (std::size_t g = 0; g < h; ++g) {
      p.u_g[g][i] = gram[i * m + n + g];
      p.sum_g[g] += p.u_g[g][i];
    }
  }
  for (std::size_t g = 0; g < h; ++g) p.change_norms.push_back(std::sqrt(gram[(n + g) * m + n + g]));
  p.pairs.assign(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < n; ++j) p.pairs[i * n + j] = gram[i * m + j];
  }
  return p;
}

// More updates: each product directly, O(n d) per change; copies are compared by sketches.
Products products_direct(std::span<const std::span<const float>> updates,
                         const std::deque<ScreeningHistory::GlobalChange>& changes, std::size_t h,
                         std::size_t dim) {
  Products p;
  std::vector<double> sum(dim, 0.0);
  for (auto u : updates) {
    p.norms.push_back(l2_norm(u));
    if (u.size() != dim) continue;
    for (std::size_t k = 0; k < dim; ++k) sum[k] += u[k];
  }
  for (double x : sum) p.sum_sq += x * x;
  for (auto u : updates) p.u_sum.push_back(u.size() == dim ? dot(u, sum) : 0.0);
  for (std::size_t g = 0; g < h; ++g) {
    const auto& change = changes[g].change;
    p.change_norms.push_back(l2_norm(change));
    p.sum_g.push_back(dot(change, sum));
    auto& ug = p.u_g.emplace_back();
    for (auto u : updates) {
      double d = 0;
      if (u.size() == dim) {
        for (std::size_t k = 0; k < dim; ++k) d += static_cast<double>(u[k]) * change[k];
      }
      ug.push_back(d);
    }
  }
  return p;
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
  if (const auto* plan = sketch_plan(v.size())) {
    for (std::size_t i = 0; i < v.size(); ++i) {
      const std::uint32_t e = (*plan)[i];  // the sign flipped by its bit: no branch to mispredict
      out[e & kBucketMask] += std::bit_cast<float>(std::bit_cast<std::uint32_t>(v[i]) ^ (e & kNegative));
    }
    return out;
  }
  for (std::size_t i = 0; i < v.size(); ++i) {
    const auto e = sketch_entry(i);
    out[e & kBucketMask] += (e & kNegative) != 0 ? -v[i] : v[i];
  }
  return out;
}

void ScreeningHistory::record_round(std::uint64_t round, std::span<const float> global_change,
                                    std::span<const common::PublicKey> workers,
                                    std::span<const std::span<const float>> updates) {
  std::vector<std::vector<float>> sketches;
  for (auto u : updates) sketches.push_back(count_sketch(u));
  record_sketched_round(round, global_change, workers, std::move(sketches));
}

void ScreeningHistory::record_sketched_round(std::uint64_t round, std::span<const float> global_change,
                                             std::span<const common::PublicKey> workers,
                                             std::vector<std::vector<float>> sketches) {
  global_changes_.push_front({round, {global_change.begin(), global_change.end()}});
  while (global_changes_.size() > static_cast<std::size_t>(rounds_)) global_changes_.pop_back();
  for (std::size_t i = 0; i < workers.size() && i < sketches.size(); ++i) {
    auto& own = own_[workers[i]];
    own.push_front({round, std::move(sketches[i])});
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
  const std::size_t dim = in.updates[0].size();
  const auto& changes = history.global_changes();
  std::size_t h = 0;  // the remembered changes of this model's size (newest first)
  while (h < changes.size() && changes[h].change.size() == dim) ++h;
  // Every dot product screening needs: between the updates, and of each with each remembered
  // change (u.g) and with the round's sum (u.sum = the row sum over the updates).
  Products p = n <= kExactPairsUpTo ? products_from_gram(in.updates, changes, h, dim)
                                    : products_direct(in.updates, changes, h, dim);
  const auto& norms = p.norms;
  const double median_norm = median(norms);
  const double sum_sq = p.sum_sq;
  const auto& u_sums = p.u_sum;

  // Cosine of every update with each remembered global change, and how far from it the
  // round's updates typically are (the median of 1 - cosine): an honest federation can follow
  // the last change closely, a replay follows it far more closely than the others do.
  std::vector<std::vector<double>> replay_cosines(h);
  std::vector<double> replay_typical;
  for (std::size_t g = 0; g < h; ++g) {
    std::vector<double> distances;
    for (std::size_t i = 0; i < n; ++i) {
      const double denom = norms[i] * p.change_norms[g];
      replay_cosines[g].push_back(in.updates[i].size() == dim && denom > 0 ? p.u_g[g][i] / denom : 0.0);
      distances.push_back(1 - replay_cosines[g].back());
    }
    replay_typical.push_back(median(distances));
  }
  // What each update carries besides each remembered change, against what the others carry
  // besides it (cosine_besides), and the round's typical (median) size of that.
  std::vector<std::vector<double>> besides(h);
  std::vector<double> besides_typical;
  const auto& change_norms = p.change_norms;
  for (std::size_t g = 0; g < h; ++g) {
    std::vector<double> sizes;
    for (std::size_t i = 0; i < n; ++i) {
      besides[g].push_back(in.updates[i].size() == dim
                               ? cosine_besides(norms[i], u_sums[i], p.u_g[g][i], sum_sq, p.sum_g[g],
                                                change_norms[g] * change_norms[g])
                               : 1.0);
      sizes.push_back(std::abs(besides[g].back()));
    }
    besides_typical.push_back(median(sizes));
  }
  out.sketches.resize(n);
  for (std::size_t i = 0; i < n; ++i) out.sketches[i] = count_sketch(in.updates[i]);
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
      for (const auto& prev : *own) {
        const double c = cosine_similarity(out.sketches[i], prev.sketch);
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
      // Noise points nowhere and looks like noise; an honest update of data the others lack can
      // be as orthogonal to their mean, but its change concentrates on some of the parameters.
      if (std::abs(c) <= band && gaussian_likeness(u, {}, 0) >= kGaussianLikeness) {
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
  std::vector<double> pair_cosines, pair_distances;
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      pair_cosines.push_back(p.pairs.empty() ? cosine_similarity(out.sketches[i], out.sketches[j])
                                             : cosine_from(p.pairs[i * n + j], norms[i], norms[j]));
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
