// Research mode: the per-worker update attacks, on flat float vectors and without torch, so the
// worker (one Byzantine process) and the coordinator's simulation (many virtual workers) mount
// exactly the same attack. Omniscient attacks (ALIE, IPM) need every honest update and live in
// fl/coordinator/simulation/omniscient_attack.hpp.
#pragma once

#include <cstdint>
#include <random>
#include <span>

namespace fl::common {

// Sign flipping (scale < 0, e.g. -1) and scaled updates (any scale): delta <- scale * delta.
inline void scale_update(std::span<float> delta, double scale) {
  const auto s = static_cast<float>(scale);
  for (float& v : delta) v *= s;
}

// Gaussian attack: every coordinate replaced by N(0, sigma^2) noise. The stream depends only on
// (seed, round), so a run is reproducible; callers give each attacker its own seed.
inline void gaussian_update(std::span<float> delta, double sigma, std::uint64_t seed,
                            std::uint64_t round) {
  std::mt19937_64 rng(seed * 1'000'003 + round);
  std::normal_distribution<float> noise(0.0f, static_cast<float>(sigma));
  for (float& v : delta) v = noise(rng);
}

// Label flipping on C classes (acts on the training data, not the update): y -> C-1-y.
inline std::int64_t flip_label(std::int64_t label, int num_classes) {
  return num_classes - 1 - label;
}

}  // namespace fl::common
