#include "fl/worker/attack.hpp"

#include <algorithm>

#include "fl/common/update_attack.hpp"

namespace fl::worker {

Result<AttackKind> parse_attack(std::string_view name) {
  if (name == "none" || name.empty()) return AttackKind::kNone;
  if (name == "label_flip") return AttackKind::kLabelFlip;
  if (name == "sign_flip") return AttackKind::kSignFlip;
  if (name == "gaussian") return AttackKind::kGaussian;
  if (name == "scaled") return AttackKind::kScaled;
  if (name == "zero") return AttackKind::kZero;
  if (name == "noise") return AttackKind::kNoise;
  if (name == "replay_global") return AttackKind::kReplayGlobal;
  if (name == "replay_noise") return AttackKind::kReplayNoise;
  if (name == "lazy") return AttackKind::kLazy;
  if (name == "inflate_samples") return AttackKind::kInflateSamples;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown attack '" + std::string(name) +
                        "' (none, label_flip, sign_flip, gaussian, scaled, zero, noise, replay_global, "
                        "replay_noise, lazy, inflate_samples; ALIE and IPM need the honest updates and run in "
                        "`fl-coordinator simulate`)");
}

std::string_view to_string(AttackKind kind) {
  switch (kind) {
    case AttackKind::kNone: return "none";
    case AttackKind::kLabelFlip: return "label_flip";
    case AttackKind::kSignFlip: return "sign_flip";
    case AttackKind::kGaussian: return "gaussian";
    case AttackKind::kScaled: return "scaled";
    case AttackKind::kZero: return "zero";
    case AttackKind::kNoise: return "noise";
    case AttackKind::kReplayGlobal: return "replay_global";
    case AttackKind::kReplayNoise: return "replay_noise";
    case AttackKind::kLazy: return "lazy";
    case AttackKind::kInflateSamples: return "inflate_samples";
  }
  return "none";
}

void apply_update_attack(const AttackOptions& attack, std::uint64_t round, std::span<float> delta) {
  switch (attack.kind) {
    case AttackKind::kSignFlip:
    case AttackKind::kScaled:
      common::scale_update(delta, attack.scale);
      break;
    case AttackKind::kGaussian:
      common::gaussian_update(delta, attack.sigma, attack.seed, round);
      break;
    default:  // label flipping acts on the data; the free riders build their update whole
      break;
  }
}

bool attack_trains(AttackKind kind) {
  return kind != AttackKind::kZero && kind != AttackKind::kNoise && kind != AttackKind::kReplayGlobal &&
         kind != AttackKind::kReplayNoise;
}

std::vector<float> free_rider_update(const AttackOptions& attack, std::uint64_t round,
                                     std::span<const float> global, std::span<const float> previous_global) {
  const bool replay = attack.kind == AttackKind::kReplayGlobal || attack.kind == AttackKind::kReplayNoise;
  const bool noise = attack.kind == AttackKind::kNoise || attack.kind == AttackKind::kReplayNoise;
  return common::free_rider_delta(replay, noise ? attack.sigma : 0.0, attack.seed, round, global,
                                  previous_global);
}

std::size_t trained_examples(const AttackOptions& attack, std::size_t share) {
  if (attack.kind != AttackKind::kLazy) return share;
  return common::lazy_examples(attack.lazy_fraction, share);
}

std::uint64_t claimed_samples(const AttackOptions& attack, std::uint64_t seen, std::uint64_t honest) {
  if (attack.kind == AttackKind::kInflateSamples) return attack.claimed_samples;
  if (attack.kind == AttackKind::kLazy || !attack_trains(attack.kind)) return honest;
  return seen;
}

}  // namespace fl::worker
