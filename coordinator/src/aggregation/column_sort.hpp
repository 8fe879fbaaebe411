// Internal to fl_aggregation: sorts the n values of every coordinate, 16 coordinates at a time,
// with a Batcher odd-even merge sorting network whose compare-exchanges are SIMD min/max across
// the 16 lanes. No data-dependent branches: the cost per coordinate is fixed, and the sorted
// order makes the coordinate-wise rules independent of the order of the updates.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <utility>
#include <vector>

namespace fl::coordinator::aggregation {

inline constexpr std::size_t kLanes = 16;  // coordinates sorted together

using Comparator = std::pair<std::uint16_t, std::uint16_t>;

// Batcher's odd-even merge sort network for n inputs (comparators i < j, min to i).
std::vector<Comparator> sorting_network(std::size_t n);

// Sorts each lane of an n x kLanes row-major slab in place.
void sort_lanes(float* slab, std::span<const Comparator> network);

// For every block of kLanes coordinates, gathers rows[i][c0 .. c0+16) into an n x 16 slab,
// sorts each lane and calls reduce(slab, n, out + c0, lanes) to write `lanes` (<= 16) results.
// Blocks run in parallel; each result depends only on its own coordinate's values.
using SortedReducer = std::function<void(const float* slab, std::size_t n, float* out,
                                         std::size_t lanes)>;
std::vector<float> reduce_sorted_coordinates(std::span<const std::span<const float>> rows,
                                             int threads, const SortedReducer& reduce);

}  // namespace fl::coordinator::aggregation
