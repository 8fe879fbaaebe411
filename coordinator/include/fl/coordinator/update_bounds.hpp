// What a round trusts of a worker's claims before combining: self-reported sample counts are
// capped (or ignored) and each update's L2 norm is bounded by a multiple of the round's median
// norm, so one worker claiming 10^7 samples or sending a huge update cannot take the aggregate
// over (the norm-bounding defence of Sun et al. 2019, "Can You Really Backdoor Federated
// Learning?", with an adaptive bound). Raw claims and no bound are research choices, asked for
// by name in the job and logged.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "fl/common/config_table.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/contribution.hpp"  // median
#include "fl/coordinator/privacy/client_dp.hpp"

namespace fl::coordinator {

enum class SampleWeighting {
  // kCapped, and a claim above the round's median claim counts only as far as the update's norm
  // backs it: min(claim, weight_cap x median claim, median claim x max(1, norm / median norm)).
  // The default: an inflated claim with an ordinary update weighs as an ordinary one.
  kBacked,
  kCapped,   // min(claim, weight_cap x the round's median claim)
  kEqual,    // every accepted update weighs 1
  kClaimed,  // as the worker claims (research mode)
};

struct UpdateBounds {
  SampleWeighting weighting = SampleWeighting::kBacked;
  double weight_cap = 2.0;     // kBacked, kCapped: multiple of the median claim
  // bound = norm_multiple x median norm: by default no update moves the model further than the
  // round's median one; 0 turns it off (research).
  double norm_multiple = 1.0;
  // FLTrust's normalisation (Cao et al. 2021): every update is rescaled to the norm of the
  // coordinator's reference update (scoring/validation.hpp) before the rule; needs a
  // validation set. Off by default.
  bool rescale_to_reference = false;
};

// Settings close_round applies to every round, read once from the job's [aggregation] section
// (and a sweep's): server_learning_rate, sample_weights ("backed", "capped", "equal", "claimed"),
// weight_cap, norm_bound_multiple, rescale_to_reference.
struct CloseSettings {
  double server_learning_rate = 1.0;
  UpdateBounds bounds;
  ClientDpSettings privacy{};  // from the [privacy] section (read_client_dp_settings); off by default
};
Status read_close_settings(const common::ConfigTable& aggregation, CloseSettings& out);

std::string weighting_name(SampleWeighting w);
// "capped at 2x median claim, norm <= 3x median" and the like, for logs and the job summary.
std::string describe(const UpdateBounds& b);
// True when the bounds trust raw claims or leave norms unbounded: the caller logs it.
bool is_research_mode(const UpdateBounds& b);

// One aggregation weight per claim, in input order; norms are the updates' norms as received
// (what backs a claim under kBacked), in the same order.
std::vector<double> bounded_weights(std::span<const std::uint64_t> claims, std::span<const double> norms,
                                    const UpdateBounds& b);
// One scale in (0, 1] per update norm: bound / norm for the norms over the bound, else 1.
std::vector<double> norm_scales(std::span<const double> norms, const UpdateBounds& b);

}  // namespace fl::coordinator
