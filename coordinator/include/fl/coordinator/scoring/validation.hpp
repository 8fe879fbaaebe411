// The coordinator's own reference for scoring: a small validation set held apart from the test
// set (the last `validation_samples` examples of the test split; evaluation uses the rest), on
// which the coordinator can measure any parameter vector and train a reference update. Workers
// do not control it, so scores against it cannot be farmed by pointing along the consensus.
// Torch-free interface; the implementation lives with the coordinator's evaluation.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct ValidationMetrics {
  double accuracy = 0;  // in [0, 1]
  double loss = 0;      // mean cross-entropy
};

class ValidationOracle {
 public:
  virtual ~ValidationOracle() = default;
  virtual std::int64_t size() const = 0;  // examples in the validation set
  virtual Result<ValidationMetrics> measure(std::span<const float> parameters) = 0;
  // FLTrust's server update (Cao et al. 2021): the delta from training `global` on the
  // validation set with the round's task settings, seeded with (seed, round).
  virtual Result<std::vector<float>> reference_update(std::span<const float> global,
                                                      std::uint64_t round) = 0;
};

}  // namespace fl::coordinator
