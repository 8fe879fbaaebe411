// The coordinator's own reference for scoring: a small validation set held apart from the test
// set (the last `validation_samples` examples of the test split; evaluation uses the rest), on
// which the coordinator can measure any parameter vector and train a reference update. Workers
// do not control it, so scores against it cannot be farmed by pointing along the consensus.
// Torch-free interface; the implementation lives with the coordinator's evaluation.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::coordinator {

struct ValidationMetrics {
  double accuracy = 0;  // in [0, 1]
  double loss = 0;      // mean cross-entropy
};

// What the model outputs on each validation example: the logits of the global model, and how
// each update changes them (logits of global + step x update, minus the global's), as
// examples x classes row-major floats. What output_shapley combines its coalitions from.
struct ValidationOutputs {
  std::int64_t examples = 0, classes = 0;
  std::vector<std::int64_t> labels;            // per example, in [0, classes)
  std::vector<float> base;                     // examples x classes
  std::vector<std::vector<float>> changes;     // per update, examples x classes
  // When asked: the round's reference update (ValidationOracle::reference_update), trained
  // alongside the passes.
  std::vector<float> reference;
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
  // The outputs above for `global` and each of `updates` (one forward pass each), on the
  // first `examples` examples (all when larger), and with `reference_round` that round's
  // reference update too. Oracles that cannot give per-example outputs say so (the default).
  virtual Result<ValidationOutputs> outputs(std::span<const float> global,
                                            std::span<const std::span<const float>> updates, double step,
                                            std::int64_t examples, std::optional<std::uint64_t> reference_round) {
    (void)global, (void)updates, (void)step, (void)examples, (void)reference_round;
    return make_error(ErrorCode::kPrecondition, "this validation set gives no per-example outputs");
  }
};

}  // namespace fl::coordinator
