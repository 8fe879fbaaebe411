// Pre-aggregation steps that compose with any rule: nearest-neighbour mixing (Allouah et al.
// 2023), bucketing (Karimireddy et al. 2022), static norm clipping and adaptive robust clipping
// (ARC, Allouah et al. 2024). Each rewrites the batch; weights follow the rows they belong to.
#include <Eigen/Core>
#include <algorithm>
#include <cstring>
#include <numeric>
#include <random>

#include "batch.hpp"

namespace fl::coordinator::aggregation {

namespace {

using RowMatrixF = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// Replaces every row with its product by `mix` (n_out x n): out_k = sum_i mix(k, i) * x_i,
// one small GEMM per column block, O(n_out * d) extra memory.
void mix_rows(Batch& batch, const RowMatrixF& mix, int threads) {
  const std::size_t n = batch.n(), d = batch.d();
  const auto n_out = static_cast<std::size_t>(mix.rows());
  const std::size_t width = std::clamp<std::size_t>((65536 / n) / 64 * 64, 64, 4096);
  std::vector<std::vector<float>> out(n_out, std::vector<float>(d));
  const std::size_t blocks = (d + width - 1) / width;
#pragma omp parallel num_threads(thread_count(threads)) if (worth_threads(n * d))
  {
    RowMatrixF slab(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(width));
    RowMatrixF result(static_cast<Eigen::Index>(n_out), static_cast<Eigen::Index>(width));
#pragma omp for schedule(static)
    for (std::int64_t bi = 0; bi < static_cast<std::int64_t>(blocks); ++bi) {
      const std::size_t c0 = static_cast<std::size_t>(bi) * width;
      const std::size_t len = std::min(d, c0 + width) - c0;
      const auto elen = static_cast<Eigen::Index>(len);
      for (std::size_t i = 0; i < n; ++i) {
        std::memcpy(slab.row(static_cast<Eigen::Index>(i)).data(), batch.rows[i].data() + c0,
                    len * sizeof(float));
      }
      result.leftCols(elen).noalias() = mix * slab.leftCols(elen);
      for (std::size_t k = 0; k < n_out; ++k) {
        std::memcpy(out[k].data() + c0, result.row(static_cast<Eigen::Index>(k)).data(),
                    len * sizeof(float));
      }
    }
  }
  batch.storage = std::move(out);
  batch.rows.assign(batch.storage.begin(), batch.storage.end());
}

// Scales row i by factor[i] where factor[i] < 1, leaving the other rows as they are.
void scale_rows(Batch& batch, std::span<const double> factor) {
  std::vector<std::vector<float>> kept;
  for (std::size_t i = 0; i < batch.n(); ++i) {
    if (factor[i] >= 1.0) continue;
    std::vector<float> row(batch.rows[i].begin(), batch.rows[i].end());
    for (auto& x : row) x = static_cast<float>(x * factor[i]);
    kept.push_back(std::move(row));
    batch.rows[i] = kept.back();
  }
  for (auto& row : batch.storage) kept.push_back(std::move(row));  // rows may still view these
  batch.storage = std::move(kept);
}

std::uint64_t bounded(std::mt19937_64& rng, std::uint64_t bound) {
  // Rejection sampling: unbiased and, unlike std::uniform_int_distribution, the same everywhere.
  const std::uint64_t threshold = (0 - bound) % bound;
  for (;;) {
    const std::uint64_t r = rng();
    if (r >= threshold) return r % bound;
  }
}

}  // namespace

Status nearest_neighbour_mixing(Batch& batch, int f, int threads) {
  const std::size_t n = batch.n(), uf = static_cast<std::size_t>(f);
  if (2 * uf >= n) {
    return make_error(ErrorCode::kPrecondition, "nnm(f=" + std::to_string(f) +
                                                    "): needs 2f < n, got n = " +
                                                    std::to_string(n));
  }
  const std::size_t keep = n - uf;
  const auto dist2 = squared_distances(batch, threads);
  RowMatrixF mix = RowMatrixF::Zero(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(n));
  const float share = 1.0f / static_cast<float>(keep);
  std::vector<std::size_t> order(n);
  for (std::size_t i = 0; i < n; ++i) {
    // Neighbours by (distance, index), the row itself first: each row is the mean of its n - f
    // nearest rows, itself included.
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::swap(order[0], order[i]);
    std::stable_sort(order.begin() + 1, order.end(), [&](std::size_t a, std::size_t b) {
      return dist2[i * n + a] < dist2[i * n + b] || (dist2[i * n + a] == dist2[i * n + b] && a < b);
    });
    for (std::size_t k = 0; k < keep; ++k) {
      mix(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(order[k])) = share;
    }
  }
  mix_rows(batch, mix, threads);
  return ok_status();
}

Status bucketing(Batch& batch, int bucket_size, std::uint64_t seed, std::uint64_t call,
                 int threads) {
  const std::size_t n = batch.n(), s = static_cast<std::size_t>(bucket_size);
  std::vector<std::size_t> perm(n);
  std::iota(perm.begin(), perm.end(), std::size_t{0});
  std::mt19937_64 rng(seed ^ (0x9E3779B97F4A7C15ull * (call + 1)));
  for (std::size_t i = n - 1; i > 0; --i) std::swap(perm[i], perm[bounded(rng, i + 1)]);
  const std::size_t buckets = (n + s - 1) / s;
  RowMatrixF mix = RowMatrixF::Zero(static_cast<Eigen::Index>(buckets), static_cast<Eigen::Index>(n));
  std::vector<double> weights(buckets, 0.0);
  for (std::size_t b = 0; b < buckets; ++b) {
    const std::size_t begin = b * s, end = std::min(n, begin + s);
    for (std::size_t k = begin; k < end; ++k) {
      mix(static_cast<Eigen::Index>(b), static_cast<Eigen::Index>(perm[k])) =
          1.0f / static_cast<float>(end - begin);
      weights[b] += batch.weights[perm[k]];
    }
  }
  mix_rows(batch, mix, threads);
  batch.weights = std::move(weights);
  return ok_status();
}

Status static_clipping(Batch& batch, double max_norm, int threads) {
  const auto norms = row_distances(batch, {}, threads);
  std::vector<double> factor(batch.n(), 1.0);
  for (std::size_t i = 0; i < batch.n(); ++i) {
    if (norms[i] > max_norm) factor[i] = max_norm / norms[i];
  }
  scale_rows(batch, factor);
  return ok_status();
}

Status adaptive_robust_clipping(Batch& batch, int f, int threads) {
  const std::size_t n = batch.n(), uf = static_cast<std::size_t>(f);
  if (2 * uf >= n) {
    return make_error(ErrorCode::kPrecondition, "arc(f=" + std::to_string(f) +
                                                    "): needs 2f < n, got n = " +
                                                    std::to_string(n));
  }
  // k = floor(2 (f/n) (n - f)) largest-norm rows are clipped to the (k+1)-th largest norm.
  const std::size_t k = (2 * uf * (n - uf)) / n;
  if (k == 0) return ok_status();
  const auto norms = row_distances(batch, {}, threads);
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return norms[a] > norms[b]; });
  const double bound = norms[order[k]];
  std::vector<double> factor(n, 1.0);
  for (std::size_t j = 0; j < k; ++j) {
    const std::size_t i = order[j];
    if (norms[i] > bound) factor[i] = bound / norms[i];
  }
  scale_rows(batch, factor);
  return ok_status();
}

namespace {
const RuleParam kBucketingParams[] = {
    {.spec_key = "s", .option_key = "bucket_size", .field = &RuleOptions::bucket_size, .min = 1,
     .max = 100000, .help = "bucketing: updates per bucket"},
    {.spec_key = "seed", .option_key = "seed", .field = &RuleOptions::seed, .in_config = false,
     .help = "seed of bucketing's shuffle"},
};
const RuleParam kClipParams[] = {
    {.spec_key = "norm", .option_key = "clip_norm", .field = &RuleOptions::clip_norm, .min = 0,
     .max = 1e30, .min_exclusive = true, .help = "static clipping: L2 norm bound"},
};
}  // namespace

extern const RuleDescriptor kNnmStep{
    .name = "nnm",
    .kind = ComponentKind::kStep,
    .uses_f = true,
    .help = "nearest-neighbour mixing (Allouah et al. 2023)",
    .step = [](Batch& b, const RuleOptions& o, std::uint64_t) {
      return nearest_neighbour_mixing(b, o.f, o.threads);
    }};

extern const RuleDescriptor kBucketingStep{
    .name = "bucketing",
    .kind = ComponentKind::kStep,
    .params = kBucketingParams,
    .help = "averages shuffled buckets of s updates (Karimireddy et al. 2022)",
    .step = [](Batch& b, const RuleOptions& o, std::uint64_t call) {
      return bucketing(b, o.bucket_size, o.seed, call, o.threads);
    }};

extern const RuleDescriptor kClipStep{
    .name = "clip",
    .kind = ComponentKind::kStep,
    .params = kClipParams,
    .help = "scales every update to L2 norm <= norm",
    .step = [](Batch& b, const RuleOptions& o, std::uint64_t) {
      return static_clipping(b, o.clip_norm, o.threads);
    }};

extern const RuleDescriptor kArcStep{
    .name = "arc",
    .kind = ComponentKind::kStep,
    .uses_f = true,
    .help = "adaptive robust clipping (Allouah et al. 2024)",
    .step = [](Batch& b, const RuleOptions& o, std::uint64_t) {
      return adaptive_robust_clipping(b, o.f, o.threads);
    }};

}  // namespace fl::coordinator::aggregation
