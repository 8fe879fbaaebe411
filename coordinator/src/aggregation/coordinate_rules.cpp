// Coordinate-wise rules: weighted mean (FedAvg, McMahan et al. 2017), median and trimmed mean
// (Yin et al. 2018). Median and trimmed mean gather a block of coordinates into a transposed
// buffer and select with nth_element, never a full sort; both depend only on the multiset of
// values per coordinate, so they are invariant to the order of the updates.
#include <algorithm>
#include <numeric>

#include "batch.hpp"

namespace fl::coordinator::aggregation {

namespace {

constexpr std::size_t kSelectBlock = 256;  // coordinates per transposed block

// Calls per_coordinate(values, n) for each coordinate with that coordinate's n values (in a
// scratch buffer it may reorder) and stores the result.
template <typename PerCoordinate>
std::vector<float> per_coordinate(const Batch& batch, int threads, PerCoordinate fn) {
  const std::size_t n = batch.n(), d = batch.d();
  const std::size_t blocks = (d + kSelectBlock - 1) / kSelectBlock;
  std::vector<float> out(d);
#pragma omp parallel num_threads(thread_count(threads))
  {
    std::vector<float> t(kSelectBlock * n);
#pragma omp for schedule(static)
    for (std::int64_t bi = 0; bi < static_cast<std::int64_t>(blocks); ++bi) {
      const std::size_t c0 = static_cast<std::size_t>(bi) * kSelectBlock;
      const std::size_t len = std::min(d, c0 + kSelectBlock) - c0;
      for (std::size_t i = 0; i < n; ++i) {
        const float* x = batch.rows[i].data() + c0;
        for (std::size_t c = 0; c < len; ++c) t[c * n + i] = x[c];
      }
      for (std::size_t c = 0; c < len; ++c) out[c0 + c] = fn(t.data() + c * n, n);
    }
  }
  return out;
}

Status check_half(const char* rule, const Batch& batch, int f) {
  if (2 * static_cast<std::size_t>(f) >= batch.n()) {
    return make_error(ErrorCode::kPrecondition,
                      std::string(rule) + "(f=" + std::to_string(f) + "): needs 2f < n, got n = " +
                          std::to_string(batch.n()));
  }
  return ok_status();
}

}  // namespace

Result<std::vector<float>> weighted_mean(const Batch& batch, int threads) {
  const double total = std::accumulate(batch.weights.begin(), batch.weights.end(), 0.0);
  if (!(total > 0)) {
    return make_error(ErrorCode::kPrecondition, "fedavg: the weights sum to zero");
  }
  std::vector<std::size_t> all(batch.n());
  std::iota(all.begin(), all.end(), std::size_t{0});
  std::vector<double> coeff(batch.n());
  for (std::size_t i = 0; i < batch.n(); ++i) coeff[i] = batch.weights[i] / total;
  return combine_rows(batch, all, coeff, threads);
}

Result<std::vector<float>> coordinate_median(const Batch& batch, int f, int threads) {
  FL_RETURN_IF_ERROR(check_half("median", batch, f));
  return per_coordinate(batch, threads, [](float* v, std::size_t n) {
    const std::size_t h = n / 2;
    std::nth_element(v, v + h, v + n);
    if (n % 2 == 1) return v[h];
    // Even n: the mean of the two middle values; the lower one is the largest of the lower half.
    const float lower = *std::max_element(v, v + h);
    return static_cast<float>((static_cast<double>(lower) + v[h]) * 0.5);
  });
}

Result<std::vector<float>> trimmed_mean(const Batch& batch, int f, int threads) {
  FL_RETURN_IF_ERROR(check_half("trimmed_mean", batch, f));
  const auto k = static_cast<std::size_t>(f);
  return per_coordinate(batch, threads, [k](float* v, std::size_t n) {
    if (k > 0) {
      // [0, k) holds the k smallest; then [k, n - k) the kept ones and [n - k, n) the k largest.
      std::nth_element(v, v + k, v + n);
      std::nth_element(v + k, v + (n - k), v + n);
    }
    double s = 0;
    for (std::size_t i = k; i < n - k; ++i) s += v[i];
    return static_cast<float>(s / static_cast<double>(n - 2 * k));
  });
}

}  // namespace fl::coordinator::aggregation
