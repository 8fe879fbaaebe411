#include "batch.hpp"

#include <omp.h>

#include <algorithm>
#include <bit>
#include <charconv>
#include <cmath>
#include <cstring>

namespace fl::coordinator::aggregation {

int thread_count(int requested) { return requested > 0 ? requested : omp_get_max_threads(); }

namespace {

std::size_t block_count(std::size_t d) { return (d + kReduceBlock - 1) / kReduceBlock; }

bool block_is_finite(const float* x, std::size_t len) {
  // Exponent bits all ones means Inf or NaN; the branch-free form vectorises.
  std::uint32_t bad = 0;
  for (std::size_t c = 0; c < len; ++c) {
    std::uint32_t bits;
    std::memcpy(&bits, x + c, sizeof bits);
    bad |= static_cast<std::uint32_t>((bits & 0x7f800000u) == 0x7f800000u);
  }
  return bad == 0;
}

}  // namespace

Status validate_updates(std::span<const UpdateView> updates, int threads) {
  if (updates.empty()) return make_error(ErrorCode::kPrecondition, "no updates to aggregate");
  const std::size_t d = updates.front().values.size();
  if (d == 0) return make_error(ErrorCode::kInvalidArgument, "update 0 has no values");
  for (std::size_t i = 0; i < updates.size(); ++i) {
    if (updates[i].values.size() != d) {
      return make_error(ErrorCode::kInvalidArgument,
                        "update " + std::to_string(i) + " has " +
                            std::to_string(updates[i].values.size()) + " values, update 0 has " +
                            std::to_string(d));
    }
    const double w = updates[i].weight;
    if (!std::isfinite(w) || w < 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        "update " + std::to_string(i) + " has weight " + format_number(w) +
                            "; weights must be finite and non-negative");
    }
  }
  // The caller filters non-finite updates; a rule still refuses them rather than spread NaN.
  const std::size_t n = updates.size();
  const std::size_t blocks = block_count(d);
  const auto total = static_cast<std::int64_t>(n * blocks);
  std::int64_t first_bad = total;
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) reduction(min : first_bad) if (worth_threads(n * d))
  for (std::int64_t t = 0; t < total; ++t) {
    const std::size_t i = static_cast<std::size_t>(t) / blocks;
    const std::size_t b = static_cast<std::size_t>(t) % blocks;
    const std::size_t c0 = b * kReduceBlock;
    if (!block_is_finite(updates[i].values.data() + c0, std::min(kReduceBlock, d - c0))) {
      first_bad = std::min(first_bad, t);
    }
  }
  if (first_bad < total) {
    const std::size_t i = static_cast<std::size_t>(first_bad) / blocks;
    const std::size_t c0 = (static_cast<std::size_t>(first_bad) % blocks) * kReduceBlock;
    std::size_t c = c0;
    while (std::isfinite(updates[i].values[c])) ++c;
    return make_error(ErrorCode::kInvalidArgument, "update " + std::to_string(i) +
                                                       ": value at index " + std::to_string(c) +
                                                       " is not finite");
  }
  return ok_status();
}

Batch batch_from(std::span<const UpdateView> updates) {
  Batch batch;
  batch.rows.reserve(updates.size());
  batch.weights.reserve(updates.size());
  for (const auto& u : updates) {
    batch.rows.push_back(u.values);
    batch.weights.push_back(u.weight);
  }
  return batch;
}

std::vector<double> row_distances(const Batch& batch, std::span<const double> centre,
                                  int threads) {
  const std::size_t n = batch.n(), d = batch.d(), blocks = block_count(d);
  std::vector<double> partial(n * blocks);
#pragma omp parallel for schedule(static) num_threads(thread_count(threads)) if (worth_threads(n * d))
  for (std::int64_t bi = 0; bi < static_cast<std::int64_t>(blocks); ++bi) {
    const std::size_t c0 = static_cast<std::size_t>(bi) * kReduceBlock;
    const std::size_t c1 = std::min(d, c0 + kReduceBlock);
    for (std::size_t i = 0; i < n; ++i) {
      const float* x = batch.rows[i].data();
      double s = 0;
      if (centre.empty()) {
        for (std::size_t c = c0; c < c1; ++c) s += static_cast<double>(x[c]) * x[c];
      } else {
        for (std::size_t c = c0; c < c1; ++c) {
          const double z = x[c] - centre[c];
          s += z * z;
        }
      }
      partial[static_cast<std::size_t>(bi) * n + i] = s;
    }
  }
  std::vector<double> norms(n, 0.0);
  for (std::size_t b = 0; b < blocks; ++b) {
    for (std::size_t i = 0; i < n; ++i) norms[i] += partial[b * n + i];
  }
  for (auto& v : norms) v = std::sqrt(v);
  return norms;
}

std::vector<float> combine_rows(const Batch& batch, std::span<const std::size_t> rows,
                                std::span<const double> coefficients, int threads) {
  const std::size_t d = batch.d(), blocks = block_count(d);
  std::vector<float> out(d);
#pragma omp parallel num_threads(thread_count(threads)) if (worth_threads(rows.size() * d))
  {
    std::vector<double> acc(kReduceBlock);
#pragma omp for schedule(static)
    for (std::int64_t bi = 0; bi < static_cast<std::int64_t>(blocks); ++bi) {
      const std::size_t c0 = static_cast<std::size_t>(bi) * kReduceBlock;
      const std::size_t len = std::min(d, c0 + kReduceBlock) - c0;
      std::fill(acc.begin(), acc.begin() + static_cast<std::ptrdiff_t>(len), 0.0);
      for (std::size_t k = 0; k < rows.size(); ++k) {
        const float* x = batch.rows[rows[k]].data() + c0;
        const double a = coefficients[k];
        for (std::size_t c = 0; c < len; ++c) acc[c] += a * x[c];
      }
      for (std::size_t c = 0; c < len; ++c) out[c0 + c] = static_cast<float>(acc[c]);
    }
  }
  return out;
}

std::string format_number(double value) {
  char buf[64];
  auto [end, ec] = std::to_chars(buf, buf + sizeof buf, value);
  return ec == std::errc() ? std::string(buf, end) : std::to_string(value);
}

}  // namespace fl::coordinator::aggregation
