// Research mode: attacks a (deliberately) Byzantine worker mounts, to test robust rules against.
// Never enabled unless asked for by name; a worker running one says so loudly in its log.
// Omniscient attacks that need the honest updates (ALIE, IPM) live in the simulation mode.
// The free-rider strategies (zero, noise, replay_global, replay_noise, lazy, inflate_samples)
// try to earn rewards without the work: they test the incentive defences, not the robust rules.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::worker {

enum class AttackKind {
  kNone,
  kLabelFlip,
  kSignFlip,
  kGaussian,
  kScaled,
  kZero,            // sends an all-zero update, no training
  kNoise,           // sends N(0, sigma^2) noise, no training
  kReplayGlobal,    // sends g_r - g_{r-1} (the last global change), no training
  kReplayNoise,     // the same plus N(0, sigma^2) noise
  kLazy,            // trains on lazy_fraction of its share, claims all of it
  kInflateSamples,  // trains honestly, claims claimed_samples
};

struct AttackOptions {
  AttackKind kind = AttackKind::kNone;
  double scale = -1.0;     // sign flip multiplies by this (default -1); scaled uses it too
  double sigma = 1.0;      // Gaussian noise standard deviation (noise, replay_noise default 1e-2)
  std::uint64_t seed = 0;  // noise seed
  double lazy_fraction = 0.01;
  std::uint64_t claimed_samples = 1'000'000;
};

// none, label_flip, sign_flip, gaussian, scaled, zero, noise, replay_global, replay_noise, lazy,
// inflate_samples
Result<AttackKind> parse_attack(std::string_view name);
std::string_view to_string(AttackKind kind);

// Applies an update attack in place (label flipping acts on the data instead and is a no-op here).
void apply_update_attack(const AttackOptions& attack, std::uint64_t round, std::span<float> delta);

// False for the strategies that send an update without training on their data.
bool attack_trains(AttackKind kind);
// The update a non-training strategy sends: zeros, noise, or the last global change
// (`global` - `previous_global`; zeros before the worker has seen two rounds), plus noise.
std::vector<float> free_rider_update(const AttackOptions& attack, std::uint64_t round,
                                     std::span<const float> global, std::span<const float> previous_global);
// How many of `share` examples a strategy trains on (lazy: at least one).
std::size_t trained_examples(const AttackOptions& attack, std::size_t share);
// The sample count a strategy claims: `seen` is what it trained on, `honest` what training its
// whole share would have counted (share x epochs), which lazy and the free riders claim.
std::uint64_t claimed_samples(const AttackOptions& attack, std::uint64_t seen, std::uint64_t honest);
// Label flipping on C classes: y -> C-1-y.
inline std::int64_t flip_label(std::int64_t label, int num_classes) { return num_classes - 1 - label; }

}  // namespace fl::worker
