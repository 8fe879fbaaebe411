// Per-example digests of a loaded dataset and the worker's commitment to its share of it: the
// sorted-leaf Merkle commitment of fl/common/dataset_commitment.hpp, whose header defines the
// digest (domain tag, the example's float32 values as loaded and normalised, its label).
// fl-worker fingerprint, prove-example and registration all go through here.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fl/common/dataset_commitment.hpp"
#include "fl/models/dataset.hpp"

namespace fl::models {

// common::example_digest of example i of `data`, for each i of `indices` (each in [0, size)).
std::vector<common::Digest> example_digests(const Dataset& data,
                                            std::span<const std::int64_t> indices);

// The sorted leaves over the selected examples (the tree dataset_fingerprint commits to).
std::vector<common::Digest> committed_leaves(const Dataset& data,
                                             std::span<const std::int64_t> indices);

}  // namespace fl::models
