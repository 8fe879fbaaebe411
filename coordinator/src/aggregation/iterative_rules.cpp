// Iterative rules: the geometric median by smoothed Weiszfeld (RFA, Pillutla et al. 2022) and
// centered clipping (Karimireddy et al. 2021). Both keep the current point in double and make
// two passes over the updates per iteration (distances, then the new point).
#include <algorithm>
#include <cmath>
#include <numeric>

#include "batch.hpp"

namespace fl::coordinator::aggregation {

namespace {

// out[c] = base[c] + sum_i a_i * (x_i[c] - shift[c]) for every coordinate; shift may be empty.
std::vector<double> affine_combination(const Batch& batch, std::span<const double> a,
                                       std::span<const double> base,
                                       std::span<const double> shift, int threads) {
  const std::size_t n = batch.n(), d = batch.d();
  std::vector<double> out(d);
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (worth_threads(n * d))
  for (std::int64_t bi = 0; bi < static_cast<std::int64_t>((d + kReduceBlock - 1) / kReduceBlock);
       ++bi) {
    const std::size_t c0 = static_cast<std::size_t>(bi) * kReduceBlock;
    const std::size_t c1 = std::min(d, c0 + kReduceBlock);
    for (std::size_t c = c0; c < c1; ++c) out[c] = 0.0;
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = batch.rows[i].data();
      const double ai = a[i];
      if (ai == 0.0) continue;
      if (shift.empty()) {
        for (std::size_t c = c0; c < c1; ++c) out[c] += ai * x[c];
      } else {
        for (std::size_t c = c0; c < c1; ++c) out[c] += ai * (x[c] - shift[c]);
      }
    }
    if (!base.empty()) {
      for (std::size_t c = c0; c < c1; ++c) out[c] += base[c];
    }
  }
  return out;
}

std::vector<float> to_float(std::span<const double> v) {
  std::vector<float> out(v.size());
  for (std::size_t c = 0; c < v.size(); ++c) out[c] = static_cast<float>(v[c]);
  return out;
}

}  // namespace

Result<std::vector<float>> geometric_median(const Batch& batch, const RuleOptions& options) {
  const std::size_t n = batch.n();
  if (2 * static_cast<std::size_t>(options.f) >= n) {
    return make_error(ErrorCode::kPrecondition, "geomed(f=" + std::to_string(options.f) +
                                                    "): needs 2f < n, got n = " +
                                                    std::to_string(n));
  }
  const double total = std::accumulate(batch.weights.begin(), batch.weights.end(), 0.0);
  if (!(total > 0)) return make_error(ErrorCode::kPrecondition, "geomed: the weights sum to zero");
  std::vector<double> alpha(n);
  for (std::size_t i = 0; i < n; ++i) alpha[i] = batch.weights[i] / total;

  // Start from the weighted mean, as RFA does.
  auto v = affine_combination(batch, alpha, {}, {}, options.threads);
  auto dist = row_distances(batch, v, options.threads);
  auto objective = [&](const std::vector<double>& ds) {
    double g = 0;
    for (std::size_t i = 0; i < n; ++i) g += alpha[i] * ds[i];
    return g;
  };
  double g = objective(dist);
  std::vector<double> beta(n);
  for (int it = 0; it < options.geomed_max_iter; ++it) {
    double sum = 0;
    for (std::size_t i = 0; i < n; ++i) sum += beta[i] = alpha[i] / std::max(options.geomed_nu, dist[i]);
    for (auto& b : beta) b /= sum;
    v = affine_combination(batch, beta, {}, {}, options.threads);
    dist = row_distances(batch, v, options.threads);
    const double g_prev = g;
    g = objective(dist);
    if (std::abs(g_prev - g) <= options.geomed_tol * g) break;
  }
  return to_float(v);
}

Result<std::vector<float>> centered_clipping(const Batch& batch, const RuleOptions& options,
                                             std::vector<double>& centre) {
  const std::size_t n = batch.n(), d = batch.d();
  if (centre.empty()) centre.assign(d, 0.0);
  if (centre.size() != d) {
    return make_error(ErrorCode::kPrecondition,
                      "cclip: updates have " + std::to_string(d) +
                          " values but the centre kept from the previous round has " +
                          std::to_string(centre.size()));
  }
  std::vector<double> a(n);
  for (int it = 0; it < options.cclip_iters; ++it) {
    // v <- v + (1/n) sum_i clip_tau(x_i - v), clip_tau(z) = z * min(1, tau / ||z||).
    const auto dist = row_distances(batch, centre, options.threads);
    for (std::size_t i = 0; i < n; ++i) {
      const double scale = dist[i] > options.cclip_tau ? options.cclip_tau / dist[i] : 1.0;
      a[i] = scale / static_cast<double>(n);
    }
    centre = affine_combination(batch, a, centre, centre, options.threads);
  }
  return to_float(centre);
}

namespace {
const RuleParam kGeoMedParams[] = {
    {.spec_key = "nu", .option_key = "geomed_nu", .field = &RuleOptions::geomed_nu, .min = 0,
     .max = 1e9, .min_exclusive = true, .help = "smoothed Weiszfeld: distance floor nu"},
    {.spec_key = "max_iter", .option_key = "geomed_max_iter",
     .field = &RuleOptions::geomed_max_iter, .min = 0, .max = 100000,
     .help = "smoothed Weiszfeld: iteration cap"},
    {.spec_key = "tol", .option_key = "geomed_tol", .field = &RuleOptions::geomed_tol, .min = 0,
     .max = 1, .help = "smoothed Weiszfeld: relative tolerance"},
};
const RuleParam kCClipParams[] = {
    {.spec_key = "tau", .option_key = "cclip_tau", .field = &RuleOptions::cclip_tau, .min = 0,
     .max = 1e30, .min_exclusive = true, .help = "centered clipping: radius tau"},
    {.spec_key = "iters", .option_key = "cclip_iters", .field = &RuleOptions::cclip_iters,
     .min = 1, .max = 1000, .help = "centered clipping: iterations L per round"},
};
}  // namespace

extern const RuleDescriptor kGeoMedRule{
    .name = "geomed",
    .uses_f = true,
    .params = kGeoMedParams,
    .help = "geometric median by smoothed Weiszfeld (RFA: Pillutla et al. 2022)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>&) {
      return geometric_median(b, o);
    }};

extern const RuleDescriptor kCClipRule{
    .name = "cclip",
    .params = kCClipParams,
    .help = "centered clipping around the previous round's aggregate (Karimireddy et al. 2021)",
    .rule = [](const Batch& b, const RuleOptions& o, std::vector<double>& centre) {
      return centered_clipping(b, o, centre);
    }};

}  // namespace fl::coordinator::aggregation
