// The two steps of client-level differential privacy that act on one update (McMahan et al.
// 2018, "Learning Differentially Private Recurrent Language Models"): clip it to an L2 norm and
// add Gaussian noise. The coordinator (central placement) and fl-worker (distributed placement)
// call the same functions. The noise is Box-Muller over mt19937_64, so a seed gives the same
// noise on every platform (std::normal_distribution does not promise that).
#pragma once

#include <cstdint>
#include <span>

#include "fl/common/result.hpp"

namespace fl::common {

// What a round task asks of a worker under distributed DP (all zero: nothing). The worker
// clips its update to clip_norm and adds N(0, (noise_multiplier * clip_norm)^2 / min_workers)
// to each coordinate, so the sum of at least min_workers honest updates carries the full noise.
struct TaskPrivacy {
  double clip_norm = 0;
  double noise_multiplier = 0;
  std::uint32_t min_workers = 0;
  bool enabled() const { return clip_norm > 0; }
  // The standard deviation one worker adds per coordinate.
  double worker_stddev() const;
};

// Checks a task's values: clip_norm and noise_multiplier finite and >= 0, min_workers >= 1
// when enabled. Fails naming the field.
Status check_task_privacy(const TaskPrivacy& privacy);

// Scales `values` down to L2 norm `clip_norm` when over it; returns the scale applied (1 when
// within). clip_norm must be > 0.
double clip_to_norm(std::span<float> values, double clip_norm);

// Adds independent N(0, stddev^2) noise to each value, drawn from `seed`.
void add_gaussian_noise(std::span<float> values, double stddev, std::uint64_t seed);

// A worker's step under distributed DP: clip to privacy.clip_norm, then add its noise share.
void privatize_local_update(std::span<float> values, const TaskPrivacy& privacy,
                            std::uint64_t noise_seed);

}  // namespace fl::common
