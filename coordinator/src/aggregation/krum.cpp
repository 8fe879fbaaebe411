// Krum and Multi-Krum (Blanchard et al. 2017) and Bulyan (El Mhamdi et al. 2018). All three work
// from one pairwise distance matrix (a Gram product). Ties in scores go to the lower index in the
// caller's order, which the coordinator sorts by worker key.
#include <algorithm>
#include <numeric>

#include "batch.hpp"

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

// Mean of the beta values closest to the median of v[0, theta); v is reordered. Only the window
// around the middle that can hold them is sorted.
float closest_to_median_mean(float* v, std::size_t theta, std::size_t beta) {
  const std::size_t h = theta / 2;
  const std::size_t lo = h >= beta ? h - beta : 0;
  const std::size_t hi = std::min(theta, h + beta);
  std::nth_element(v, v + lo, v + theta);
  if (hi < theta) std::nth_element(v + lo, v + hi - 1, v + theta);
  std::sort(v + lo, v + hi);
  const double med = theta % 2 == 1 ? v[h] : (static_cast<double>(v[h - 1]) + v[h]) * 0.5;
  // Grow a window outwards from the median; on equal distance take the lower value.
  std::ptrdiff_t left = static_cast<std::ptrdiff_t>(h) - 1;
  std::size_t right = h;
  double sum = 0;
  for (std::size_t taken = 0; taken < beta; ++taken) {
    const bool take_left =
        left >= static_cast<std::ptrdiff_t>(lo) &&
        (right >= hi || med - v[left] <= static_cast<double>(v[right]) - med);
    sum += take_left ? v[left--] : v[right++];
  }
  return static_cast<float>(sum / static_cast<double>(beta));
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
  const std::size_t d = batch.d();
  constexpr std::size_t kBlock = 256;
  const std::size_t blocks = (d + kBlock - 1) / kBlock;
  std::vector<float> out(d);
#pragma omp parallel num_threads(thread_count(threads))
  {
    std::vector<float> t(kBlock * theta);
#pragma omp for schedule(static)
    for (std::int64_t bi = 0; bi < static_cast<std::int64_t>(blocks); ++bi) {
      const std::size_t c0 = static_cast<std::size_t>(bi) * kBlock;
      const std::size_t len = std::min(d, c0 + kBlock) - c0;
      for (std::size_t s = 0; s < theta; ++s) {
        const float* x = batch.rows[selected[s]].data() + c0;
        for (std::size_t c = 0; c < len; ++c) t[c * theta + s] = x[c];
      }
      for (std::size_t c = 0; c < len; ++c) {
        out[c0 + c] = closest_to_median_mean(t.data() + c * theta, theta, beta);
      }
    }
  }
  return out;
}

}  // namespace fl::coordinator::aggregation
