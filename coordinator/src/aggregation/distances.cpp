#include "fl/coordinator/aggregation/distances.hpp"

#include <Eigen/Core>
#include <algorithm>

#include "batch.hpp"

namespace fl::coordinator {

namespace {

using RowMatrixD = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

// The coordinates are split into this many contiguous lanes whatever the thread count; each lane
// accumulates its own Gram matrix and the lanes are added in order, so the sum is reproducible.
constexpr std::size_t kLanes = 16;

// Columns per Gram block: keeps the n x B slab of doubles near 256 KiB so it stays in cache.
std::size_t gram_block(std::size_t n) {
  const std::size_t b = (32768 / std::max<std::size_t>(n, 1)) / 64 * 64;
  return std::clamp<std::size_t>(b, 64, 4096);
}

// Adds the lower triangle of the Gram matrix of columns [c0, c1) of the rows, or of their
// differences to row 0 when `centered` (distances are translation invariant; taking differences
// to row 0, exact for nearby floats, keeps ||x||^2 - 2<x,y> + ||y||^2 from losing the gaps between
// nearby updates to rounding). The products are formed in double.
void accumulate_lane(std::span<const std::span<const float>> rows, std::size_t c0, std::size_t c1,
                     bool centered, Eigen::MatrixXd& gram) {
  const std::size_t n = rows.size(), width = gram_block(n);
  RowMatrixD slab(static_cast<Eigen::Index>(n), static_cast<Eigen::Index>(width));
  for (std::size_t b0 = c0; b0 < c1; b0 += width) {
    const std::size_t len = std::min(width, c1 - b0);
    const float* ref = rows[0].data() + b0;
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = rows[i].data() + b0;
      double* out = slab.row(static_cast<Eigen::Index>(i)).data();
      if (centered) {
        for (std::size_t c = 0; c < len; ++c) out[c] = static_cast<double>(x[c]) - ref[c];
      } else {
        for (std::size_t c = 0; c < len; ++c) out[c] = x[c];
      }
    }
    gram.selfadjointView<Eigen::Lower>().rankUpdate(slab.leftCols(static_cast<Eigen::Index>(len)));
  }
}

// The lower triangle of the Gram matrix, summed lane by lane in a fixed order.
Eigen::MatrixXd lower_gram(std::span<const std::span<const float>> rows, bool centered, int threads) {
  const std::size_t n = rows.size();
  const std::size_t d = rows.front().size();
  const auto en = static_cast<Eigen::Index>(n);
  std::vector<Eigen::MatrixXd> lanes(kLanes, Eigen::MatrixXd::Zero(en, en));
#pragma omp parallel for schedule(dynamic, 1) num_threads(aggregation::thread_count(threads)) \
    if (aggregation::worth_threads(n * d))
  for (std::int64_t l = 0; l < static_cast<std::int64_t>(kLanes); ++l) {
    const std::size_t c0 = d * static_cast<std::size_t>(l) / kLanes;
    const std::size_t c1 = d * static_cast<std::size_t>(l + 1) / kLanes;
    if (c1 > c0) accumulate_lane(rows, c0, c1, centered, lanes[static_cast<std::size_t>(l)]);
  }
  Eigen::MatrixXd gram = Eigen::MatrixXd::Zero(en, en);
  for (const auto& lane : lanes) gram.triangularView<Eigen::Lower>() += lane;
  return gram;
}

}  // namespace

std::vector<double> pairwise_squared_distances(std::span<const std::span<const float>> rows,
                                               int threads) {
  const std::size_t n = rows.size();
  if (n == 0) return {};
  const auto gram = lower_gram(rows, true, threads);
  std::vector<double> dist2(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j < i; ++j) {
      const auto ei = static_cast<Eigen::Index>(i), ej = static_cast<Eigen::Index>(j);
      const double v = std::max(0.0, gram(ei, ei) + gram(ej, ej) - 2.0 * gram(ei, ej));
      dist2[i * n + j] = v;
      dist2[j * n + i] = v;
    }
  }
  return dist2;
}

std::vector<double> gram_matrix(std::span<const std::span<const float>> rows, int threads) {
  const std::size_t n = rows.size();
  if (n == 0) return {};
  const auto gram = lower_gram(rows, false, threads);
  std::vector<double> out(n * n, 0.0);
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = 0; j <= i; ++j) {
      const double v = gram(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(j));
      out[i * n + j] = v;
      out[j * n + i] = v;
    }
  }
  return out;
}

namespace aggregation {

std::vector<double> squared_distances(const Batch& batch, int threads) {
  return pairwise_squared_distances(batch.rows, threads);
}

}  // namespace aggregation

}  // namespace fl::coordinator
