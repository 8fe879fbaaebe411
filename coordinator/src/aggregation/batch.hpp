// Internal to fl_aggregation: the batch of updates the rules and pre-aggregation steps work on,
// the resolved parameters, and the deterministic parallel helpers they share. Every reduction
// over coordinates goes through fixed-size blocks summed in block order, so results depend on
// neither the thread count nor the scheduling.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"
#include "fl/coordinator/aggregation/rule_registry.hpp"

namespace fl::coordinator::aggregation {

// Rows are views; a pre-aggregation step that produces new rows keeps them in `storage`.
struct Batch {
  std::vector<std::span<const float>> rows;
  std::vector<double> weights;
  std::vector<std::vector<float>> storage;

  std::size_t n() const { return rows.size(); }
  std::size_t d() const { return rows.empty() ? 0 : rows.front().size(); }
};

// Coordinates per block for reductions over d; fixed so that sums are thread-count independent.
inline constexpr std::size_t kReduceBlock = 4096;

int thread_count(int requested);

// Below this many values a parallel region costs more (thread wake-up) than it saves.
inline constexpr std::size_t kParallelMinValues = std::size_t{1} << 20;
inline bool worth_threads(std::size_t values) { return values >= kParallelMinValues; }

// Checks n >= 1, equal lengths >= 1, finite values and finite non-negative weights.
Status validate_updates(std::span<const UpdateView> updates, int threads);

// Batch of views over the caller's updates (no copy).
Batch batch_from(std::span<const UpdateView> updates);

// ||rows[i] - centre||_2 for every row; centre empty means the origin.
std::vector<double> row_distances(const Batch& batch, std::span<const double> centre, int threads);

// Full n x n matrix (row-major) of squared Euclidean distances, through one Gram product per
// column block on centred data (see distances.hpp).
std::vector<double> squared_distances(const Batch& batch, int threads);

// Mean of the selected rows, coefficients[i] per row (sum over rows in the given order, double).
std::vector<float> combine_rows(const Batch& batch, std::span<const std::size_t> rows,
                                std::span<const double> coefficients, int threads);

// Formats a double in its shortest round-trip form ("10", "1e-06").
std::string format_number(double value);

// The rules (each checks its own preconditions and names itself in errors).
Result<std::vector<float>> weighted_mean(const Batch& batch, int threads);
Result<std::vector<float>> coordinate_median(const Batch& batch, int f, int threads);
Result<std::vector<float>> trimmed_mean(const Batch& batch, int f, int threads);
Result<std::vector<float>> krum(const Batch& batch, int f, int threads);
Result<std::vector<float>> multi_krum(const Batch& batch, int f, int m, int threads);
Result<std::vector<float>> bulyan(const Batch& batch, int f, int threads);
Result<std::vector<float>> geometric_median(const Batch& batch, const RuleOptions& options);
// `centre` is the state kept across rounds: empty on the first call (the origin).
Result<std::vector<float>> centered_clipping(const Batch& batch, const RuleOptions& options,
                                             std::vector<double>& centre);

// Pre-aggregation steps: rewrite the batch in place.
Status nearest_neighbour_mixing(Batch& batch, int f, int threads);
Status bucketing(Batch& batch, int bucket_size, std::uint64_t seed, std::uint64_t call,
                 int threads);
Status static_clipping(Batch& batch, double max_norm, int threads);
Status adaptive_robust_clipping(Batch& batch, int f, int threads);

// Krum scores over a subset `alive` of rows: the sum of the k smallest squared distances to the
// other alive rows, k = |alive| - f - 2 (at least 1 when another row exists).
std::vector<double> krum_scores(std::span<const double> dist2, std::size_t n,
                                std::span<const std::size_t> alive, int f);

}  // namespace fl::coordinator::aggregation
