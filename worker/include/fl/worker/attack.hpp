// Research mode: attacks a (deliberately) Byzantine worker mounts, to test robust rules against.
// Never enabled unless asked for by name; a worker running one says so loudly in its log.
// Omniscient attacks that need the honest updates (ALIE, IPM) live in the simulation mode.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "fl/common/result.hpp"

namespace fl::worker {

enum class AttackKind { kNone, kLabelFlip, kSignFlip, kGaussian, kScaled };

struct AttackOptions {
  AttackKind kind = AttackKind::kNone;
  double scale = -1.0;     // sign flip multiplies by this (default -1); scaled uses it too
  double sigma = 1.0;      // Gaussian noise standard deviation
  std::uint64_t seed = 0;  // noise seed
};

Result<AttackKind> parse_attack(std::string_view name);  // none, label_flip, sign_flip, gaussian, scaled
std::string_view to_string(AttackKind kind);

// Applies an update attack in place (label flipping acts on the data instead and is a no-op here).
void apply_update_attack(const AttackOptions& attack, std::uint64_t round, std::span<float> delta);
// Label flipping on C classes: y -> C-1-y.
inline std::int64_t flip_label(std::int64_t label, int num_classes) { return num_classes - 1 - label; }

}  // namespace fl::worker
