// Pairwise squared Euclidean distances between n vectors, the one expensive step shared by Krum,
// Multi-Krum, Bulyan and nearest-neighbour mixing. Computed as one Gram product per column block
// (||x_i||^2 + ||x_j||^2 - 2<x_i, x_j>) on the differences to the first row, in double; partial
// sums are accumulated over a fixed split of the coordinates, so the result is the same for any
// thread count.
#pragma once

#include <span>
#include <vector>

namespace fl::coordinator {

// Row-major n x n matrix, zero diagonal, symmetric, entries >= 0. All rows must have equal length.
std::vector<double> pairwise_squared_distances(std::span<const std::span<const float>> rows,
                                               int threads = 0);

// Row-major n x n matrix of inner products <x_i, x_j> in double, by the same fixed split of the
// coordinates (the same result for any thread count). All rows must have equal length.
std::vector<double> gram_matrix(std::span<const std::span<const float>> rows, int threads = 0);

}  // namespace fl::coordinator
