// Krum and Multi-Krum (Blanchard et al. 2017) and Bulyan (El Mhamdi et al. 2018). All three work
// from one pairwise distance matrix (a Gram product). Ties in scores go to the lower index in the
// caller's order, which the coordinator sorts by worker key.
#include <algorithm>
#include <numeric>

#include "batch.hpp"
#include "column_sort.hpp"

namespace fl::coordinator::aggregation {

namespace {

std::string fstr(int f) { return "(f=" + std::to_string(f) + ")"; }

// Indices ordered by (score, index).
std::vector<std::size_t> by_score(std::span<const double> scores) {
  std::vector<std::size_t> order(scores.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return scores[a] < scores[b]; });
  return order;
}

Status check_krum(const char* rule, std::size_t n, int f) {
  const std::size_t need = 2 * static_cast<std::size_t>(f) + 3;
  if (n < need) {
    return make_error(ErrorCode::kPrecondition, std::string(rule) + fstr(f) +
                                                    ": needs n >= 2f+3 = " + std::to_string(need) +
                                                    " updates, got " + std::to_string(n));
  }
  return ok_status();
}

}  // namespace

std::vector<double> krum_scores(std::span<const double> dist2, std::size_t n,
                                std::span<const std::size_t> alive, int f) {
  const std::size_t r = alive.size();
  std::vector<double> scores(r, 0.0);
  if (r < 2) return scores;
  const std::ptrdiff_t want = static_cast<std::ptrdiff_t>(r) - f - 2;
  const auto k = static_cast<std::size_t>(std::clamp<std::ptrdiff_t>(want, 1, static_cast<std::ptrdiff_t>(r) - 1));
  std::vector<double> others;
  others.reserve(r - 1);
  for (std::size_t a = 0; a < r; ++a) {
    others.clear();
    for (std::size_t b = 0; b < r; ++b) {
      if (b != a) others.push_back(dist2[alive[a] * n + alive[b]]);
    }
    // Summing the k nearest in ascending order makes the score independent of the input order.
    std::partial_sort(others.begin(), others.begin() + static_cast<std::ptrdiff_t>(k), others.end());
    double s = 0;
    for (std::size_t j = 0; j < k; ++j) s += others[j];
    scores[a] = s;
  }
  return scores;
}

Result<std::vector<float>> krum(const Batch& batch, int f, int threads) {
  FL_RETURN_IF_ERROR(check_krum("krum", batch.n(), f));
  const auto dist2 = squared_distances(batch, threads);
  std::vector<std::size_t> all(batch.n());
  std::iota(all.begin(), all.end(), std::size_t{0});
  const auto best = by_score(krum_scores(dist2, batch.n(), all, f)).front();
  return std::vector<float>(batch.rows[best].begin(), batch.rows[best].end());
}

Result<std::vector<float>> multi_krum(const Batch& batch, int f, int m, int threads) {
  FL_RETURN_IF_ERROR(check_krum("multikrum", batch.n(), f));
  const std::size_t n = batch.n();
  const std::size_t count = m > 0 ? static_cast<std::size_t>(m) : n - static_cast<std::size_t>(f);
  if (count > n) {
    return make_error(ErrorCode::kPrecondition, "multikrum" + fstr(f) + ": m = " +
                                                    std::to_string(count) + " exceeds n = " +
                                                    std::to_string(n));
  }
  const auto dist2 = squared_distances(batch, threads);
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), std::size_t{0});
  auto order = by_score(krum_scores(dist2, n, all, f));
  order.resize(count);
  std::sort(order.begin(), order.end());  // sum in the caller's order
  const std::vector<double> coeff(count, 1.0 / static_cast<double>(count));
  return combine_rows(batch, order, coeff, threads);
}

namespace {

// Per lane of a sorted slab: the mean of the beta values closest to the median. They form a
// window [a, a + beta) of the sorted values; a is the first start for which the window's left
// end is no farther from the median than the value just past its right end (equal distances
// keep the lower value). v[a] + v[a + beta] grows with a, so a counts the starts that fail.
void closest_to_median_means(const float* v, std::size_t theta, std::size_t beta, float* out,
                             std::size_t lanes) {
  const std::size_t h = theta / 2;
  double twice_median[kLanes];
  for (std::size_t w = 0; w < kLanes; ++w) {
    twice_median[w] = theta % 2 == 1 ? 2.0 * v[h * kLanes + w]
                                     : static_cast<double>(v[(h - 1) * kLanes + w]) + v[h * kLanes + w];
  }
  std::size_t start[kLanes] = {};
  for (std::size_t a = 0; a + beta < theta; ++a) {
    for (std::size_t w = 0; w < kLanes; ++w) {
      const double ends = static_cast<double>(v[a * kLanes + w]) + v[(a + beta) * kLanes + w];
      start[w] += ends < twice_median[w] ? 1 : 0;
    }
  }
  double acc[kLanes] = {};
  for (std::size_t i = 0; i < theta; ++i) {
    for (std::size_t w = 0; w < kLanes; ++w) {
      acc[w] += (i >= start[w] && i < start[w] + beta) ? v[i * kLanes + w] : 0.0f;
    }
  }
  for (std::size_t w = 0; w < lanes; ++w) out[w] = static_cast<float>(acc[w] / static_cast<double>(beta));
}

}  // namespace

Result<std::vector<float>> bulyan(const Batch& batch, int f, int threads) {
  const std::size_t n = batch.n(), uf = static_cast<std::size_t>(f);
  if (n < 4 * uf + 3) {
    return make_error(ErrorCode::kPrecondition, "bulyan" + fstr(f) + ": needs n >= 4f+3 = " +
                                                    std::to_string(4 * uf + 3) +
                                                    " updates, got " + std::to_string(n));
  }
  const std::size_t theta = n - 2 * uf, beta = theta - 2 * uf;
  const auto dist2 = squared_distances(batch, threads);
  // Selection: theta rounds of Krum on the updates not yet selected.
  std::vector<std::size_t> alive(n), selected;
  std::iota(alive.begin(), alive.end(), std::size_t{0});
  while (selected.size() < theta) {
    const auto scores = krum_scores(dist2, n, alive, f);
    const std::size_t pick = by_score(scores).front();
    selected.push_back(alive[pick]);
    alive.erase(alive.begin() + static_cast<std::ptrdiff_t>(pick));
  }
  std::sort(selected.begin(), selected.end());
  // Aggregation: per coordinate, the mean of the beta selected values closest to the median.
  std::vector<std::span<const float>> chosen;
  for (const auto i : selected) chosen.push_back(batch.rows[i]);
  return reduce_sorted_coordinates(
      chosen, threads, [beta](const float* v, std::size_t count, float* out, std::size_t lanes) {
        closest_to_median_means(v, count, beta, out, lanes);
      });
}

extern const RuleDescriptor kKrumRule{
    .name = "krum",
    .uses_f = true,
    .help = "the update closest to its n - f - 2 neighbours (Blanchard et al. 2017)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return krum(b, o.f, o.threads);
    }};

namespace {
const RuleParam kMultiKrumParams[] = {
    {.spec_key = "m", .option_key = "multikrum_m", .field = &RuleOptions::multikrum_m, .min = 0,
     .max = 100000, .omit_when_zero = true, .help = "Multi-Krum: updates averaged (0: n - f)"},
};
}  // namespace

extern const RuleDescriptor kMultiKrumRule{
    .name = "multikrum",
    .uses_f = true,
    .params = kMultiKrumParams,
    .help = "mean of the m best Krum-scored updates (Blanchard et al. 2017)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return multi_krum(b, o.f, o.multikrum_m, o.threads);
    }};

extern const RuleDescriptor kBulyanRule{
    .name = "bulyan",
    .uses_f = true,
    .help = "Krum selection, then a coordinate-wise trimmed mean (El Mhamdi et al. 2018)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return bulyan(b, o.f, o.threads);
    }};

}  // namespace fl::coordinator::aggregation
