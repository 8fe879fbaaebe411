#include "column_sort.hpp"

#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "batch.hpp"

// Runtime dispatch to the widest vector unit (ifunc); the code is identical for each target.
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define FL_VECTOR_CLONES __attribute__((target_clones("avx512f", "avx2", "default")))
#else
#define FL_VECTOR_CLONES
#endif

namespace fl::coordinator::aggregation {

std::vector<Comparator> sorting_network(std::size_t n) {
  // Knuth / Batcher: valid for any n (the comparators beyond n of the padded power of two are
  // exactly the ones the bounds below leave out).
  std::vector<Comparator> net;
  for (std::size_t p = 1; p < n; p *= 2) {
    for (std::size_t k = p; k >= 1; k /= 2) {
      for (std::size_t j = k % p; j + k < n; j += 2 * k) {
        for (std::size_t i = 0; i < std::min(k, n - j - k); ++i) {
          if ((i + j) / (2 * p) == (i + j + k) / (2 * p)) {
            net.emplace_back(static_cast<std::uint16_t>(i + j), static_cast<std::uint16_t>(i + j + k));
          }
        }
      }
    }
  }
  return net;
}

// One compare-exchange on 16 lanes; GCC's vector type becomes one zmm, two ymm or four xmm
// registers depending on the clone.
using Lanes = float __attribute__((vector_size(kLanes * sizeof(float))));

FL_VECTOR_CLONES
void sort_lanes(float* slab, std::span<const Comparator> network) {
  for (const auto& [i, j] : network) {
    float* a = slab + std::size_t{i} * kLanes;
    float* b = slab + std::size_t{j} * kLanes;
    Lanes x, y;
    std::memcpy(&x, a, sizeof x);
    std::memcpy(&y, b, sizeof y);
    const Lanes lo = x < y ? x : y;
    const Lanes hi = x < y ? y : x;
    std::memcpy(a, &lo, sizeof lo);
    std::memcpy(b, &hi, sizeof hi);
  }
}

std::vector<float> reduce_sorted_coordinates(std::span<const std::span<const float>> rows,
                                             int threads, const SortedReducer& reduce) {
  const std::size_t n = rows.size(), d = rows.front().size();
  if (n > 65535) throw std::length_error("reduce_sorted_coordinates: more than 65535 rows");
  const auto network = sorting_network(n);
  // A super-block of 16 slabs is gathered row by row (64-byte pieces of 16 rows' lines at once),
  // then each L1-sized slab is sorted and reduced.
  constexpr std::size_t kSlabs = 16, kSuper = kSlabs * kLanes;
  const std::size_t supers = (d + kSuper - 1) / kSuper;
  std::vector<float> out(d);
#pragma omp parallel num_threads(thread_count(threads)) if (worth_threads(n * d))
  {
    std::vector<float> buf(kSlabs * n * kLanes);
#pragma omp for schedule(static)
    for (std::int64_t sb = 0; sb < static_cast<std::int64_t>(supers); ++sb) {
      const std::size_t c0 = static_cast<std::size_t>(sb) * kSuper;
      const std::size_t len = std::min(d, c0 + kSuper) - c0;
      const std::size_t slabs = (len + kLanes - 1) / kLanes;
      for (std::size_t i = 0; i < n; ++i) {
        const float* x = rows[i].data() + c0;
        for (std::size_t s = 0; s < slabs; ++s) {
          float* dst = buf.data() + (s * n + i) * kLanes;
          const std::size_t take = std::min(kLanes, len - s * kLanes);
          std::memcpy(dst, x + s * kLanes, take * sizeof(float));
          std::fill(dst + take, dst + kLanes, 0.0f);
        }
      }
      for (std::size_t s = 0; s < slabs; ++s) {
        float* slab = buf.data() + s * n * kLanes;
        sort_lanes(slab, network);
        reduce(slab, n, out.data() + c0 + s * kLanes, std::min(kLanes, len - s * kLanes));
      }
    }
  }
  return out;
}

}  // namespace fl::coordinator::aggregation
