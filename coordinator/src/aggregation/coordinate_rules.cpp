// Coordinate-wise rules: weighted mean (FedAvg, McMahan et al. 2017), median and trimmed mean
// (Yin et al. 2018). Median and trimmed mean sort each coordinate's n values with a SIMD sorting
// network, 16 coordinates at once (column_sort.hpp): branch-free, and faster than nth_element
// per coordinate for the n of federated rounds. Sums run in sorted order, so both results depend
// only on the multiset of values per coordinate: bit-identical under any order of the updates.
#include <algorithm>
#include <numeric>

#include "batch.hpp"
#include "column_sort.hpp"

namespace fl::coordinator::aggregation {

namespace {

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
  return reduce_sorted_coordinates(
      batch.rows, threads, [](const float* v, std::size_t n, float* out, std::size_t lanes) {
        const float* hi = v + (n / 2) * kLanes;
        if (n % 2 == 1) {
          std::copy(hi, hi + lanes, out);
          return;
        }
        // Even n: the mean of the two middle values.
        const float* lo = hi - kLanes;
        for (std::size_t w = 0; w < lanes; ++w) {
          out[w] = static_cast<float>((static_cast<double>(lo[w]) + hi[w]) * 0.5);
        }
      });
}

Result<std::vector<float>> trimmed_mean(const Batch& batch, int f, int threads) {
  FL_RETURN_IF_ERROR(check_half("trimmed_mean", batch, f));
  const auto k = static_cast<std::size_t>(f);
  return reduce_sorted_coordinates(
      batch.rows, threads, [k](const float* v, std::size_t n, float* out, std::size_t lanes) {
        // Drop the k smallest and k largest: sum sorted rows [k, n - k) lane by lane.
        double acc[kLanes] = {};
        for (std::size_t i = k; i < n - k; ++i) {
          for (std::size_t w = 0; w < kLanes; ++w) acc[w] += v[i * kLanes + w];
        }
        const double kept = static_cast<double>(n - 2 * k);
        for (std::size_t w = 0; w < lanes; ++w) out[w] = static_cast<float>(acc[w] / kept);
      });
}

extern const RuleDescriptor kFedAvgRule{
    .name = "fedavg",
    .help = "weighted mean by sample count (FedAvg: McMahan et al. 2017)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return weighted_mean(b, o.threads);
    }};

extern const RuleDescriptor kMedianRule{
    .name = "median",
    .uses_f = true,
    .help = "coordinate-wise median (Yin et al. 2018)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return coordinate_median(b, o.f, o.threads);
    }};

extern const RuleDescriptor kTrimmedMeanRule{
    .name = "trimmed_mean",
    .uses_f = true,
    .help = "coordinate-wise mean without the f largest and f smallest (Yin et al. 2018)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return trimmed_mean(b, o.f, o.threads);
    }};

}  // namespace fl::coordinator::aggregation
