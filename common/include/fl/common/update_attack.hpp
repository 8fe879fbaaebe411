// Research mode: the per-worker update attacks, on flat float vectors and without torch, so the
// worker (one Byzantine process) and the coordinator's simulation (many virtual workers) mount
// exactly the same attack. Omniscient attacks (ALIE, IPM) need every honest update and live in
// fl/coordinator/simulation/omniscient_attack.hpp.
#pragma once

#include <algorithm>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

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

// Free riders (incentive research mode): what a worker sends without training. `replay` starts
// from the last global change (global - previous_global; zeros before a worker has seen two
// rounds), `noise_sigma` > 0 adds N(0, sigma^2) noise from the (seed, round) stream; neither
// is the zero update.
inline std::vector<float> free_rider_delta(bool replay, double noise_sigma, std::uint64_t seed,
                                           std::uint64_t round, std::span<const float> global,
                                           std::span<const float> previous_global) {
  std::vector<float> delta(global.size(), 0.0f);
  if (replay && previous_global.size() == global.size()) {
    for (std::size_t i = 0; i < delta.size(); ++i) delta[i] = global[i] - previous_global[i];
  }
  if (noise_sigma > 0) {
    std::vector<float> noise(delta.size());
    gaussian_update(noise, noise_sigma, seed, round);
    for (std::size_t i = 0; i < delta.size(); ++i) delta[i] += noise[i];
  }
  return delta;
}

// A lazy worker trains on `fraction` of its `share` examples (at least one) and claims them all.
inline std::size_t lazy_examples(double fraction, std::size_t share) {
  if (share == 0) return 0;
  const auto n = static_cast<std::size_t>(fraction * static_cast<double>(share));
  return std::clamp<std::size_t>(n, 1, share);
}

// Label flipping on C classes (acts on the training data, not the update): y -> C-1-y.
inline std::int64_t flip_label(std::int64_t label, int num_classes) {
  return num_classes - 1 - label;
}

}  // namespace fl::common
