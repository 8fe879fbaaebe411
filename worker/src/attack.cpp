#include "fl/worker/attack.hpp"

#include "fl/common/update_attack.hpp"

namespace fl::worker {

Result<AttackKind> parse_attack(std::string_view name) {
  if (name == "none" || name.empty()) return AttackKind::kNone;
  if (name == "label_flip") return AttackKind::kLabelFlip;
  if (name == "sign_flip") return AttackKind::kSignFlip;
  if (name == "gaussian") return AttackKind::kGaussian;
  if (name == "scaled") return AttackKind::kScaled;
  return make_error(ErrorCode::kInvalidArgument,
                    "unknown attack '" + std::string(name) +
                        "' (none, label_flip, sign_flip, gaussian, scaled; ALIE and IPM need the honest "
                        "updates and run in `fl-coordinator simulate`)");
}

std::string_view to_string(AttackKind kind) {
  switch (kind) {
    case AttackKind::kNone: return "none";
    case AttackKind::kLabelFlip: return "label_flip";
    case AttackKind::kSignFlip: return "sign_flip";
    case AttackKind::kGaussian: return "gaussian";
    case AttackKind::kScaled: return "scaled";
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
    case AttackKind::kNone:
    case AttackKind::kLabelFlip:
      break;
  }
}

}  // namespace fl::worker
