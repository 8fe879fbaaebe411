// Client-level differential privacy for federated rounds (McMahan et al. 2018, "Learning
// Differentially Private Recurrent Language Models"): every update is clipped to L2 norm C and
// weighs the same, and the sum of a round's updates carries Gaussian noise of std sigma * C,
// added by the coordinator (central) or by each sampled worker, N(0, sigma^2 C^2 / m), so that
// any m honest answers carry it in full (distributed). A job declares its (epsilon, delta)
// budget; next_round_spend() says whether one more round fits it (rdp_composition.hpp).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/config_table.hpp"
#include "fl/common/dp_noise.hpp"
#include "fl/common/rdp_composition.hpp"
#include "fl/common/result.hpp"
#include "fl/coordinator/aggregation/rule.hpp"

namespace fl::coordinator {

enum class DpPlacement { kNone, kCentral, kDistributed };
std::string_view to_string(DpPlacement placement);

struct ClientDpSettings {
  DpPlacement mode = DpPlacement::kNone;
  double clip_norm = 1.0;         // C
  double noise_multiplier = 1.0;  // sigma: the noise on the sum has std sigma * C
  double target_epsilon = 0;      // the job's budget, required with DP
  double target_delta = 1e-5;
  int min_workers = 0;     // distributed: m, the fewest accepted updates a round combines
  std::uint64_t seed = 1;  // the job's seed; central noise is drawn from (seed, round)
  bool enabled() const { return mode != DpPlacement::kNone; }
};

// Reads a [privacy] section: mode ("none", "central", "distributed"), clip_norm,
// noise_multiplier, target_epsilon, target_delta and (distributed) min_workers. Without the
// section or with mode = "none" DP is off and the other keys must be absent.
Status read_client_dp_settings(const common::ConfigTable& privacy, std::uint64_t seed,
                               ClientDpSettings& out);
// "central DP: clip 1, sigma 1.1, budget epsilon 3 at delta 1e-05" for logs.
std::string describe(const ClientDpSettings& settings);
// What each round task carries: C, sigma and m under distributed DP, zero otherwise.
common::TaskPrivacy task_privacy(const ClientDpSettings& settings);

// The norm a distributed-DP update may have: C plus a bound on its worker's noise share over
// `dimensions` coordinates (the share's norm is sigma C / sqrt(m) times a chi variable with
// mean about sqrt(d) and spread under 1; the bound allows sqrt(d) + 4).
double distributed_norm_bound(const ClientDpSettings& settings, std::size_t dimensions);

// A round's updates as the rule sees them under DP.
struct PrivateUpdates {
  std::vector<std::vector<float>> values;  // clipped (central: and noised) copies, in order
  std::string refusal;  // set: the round must not be combined (distributed, fewer than m)
  int clipped = 0;      // updates that were over the norm bound
};

// Applies DP to a round's bounded updates (in worker-key order) and points `views` at the
// result, each with weight 1. Central: clip to C, then add N(0, sigma^2 C^2 / n) to each of the
// n updates, drawn from (seed, round, index), so their sum carries N(0, sigma^2 C^2).
// Distributed: refuse below m updates; clip to distributed_norm_bound (the workers clipped to
// C and added their noise). Nothing to do when DP is off.
PrivateUpdates privatize_updates(const ClientDpSettings& settings, std::uint64_t round,
                                 std::vector<UpdateView>& views);

// What one more round would spend: q = sampled / population, the cumulative epsilon after it,
// and whether that is within the budget (with the reason when not).
struct RoundSpend {
  double sample_rate = 0;
  double epsilon = 0;
  bool within_budget = true;
  std::string reason;  // "privacy budget spent: round 7 would bring epsilon to ..."
};
Result<RoundSpend> next_round_spend(const common::RdpComposition& spent,
                                    const ClientDpSettings& settings, std::uint64_t round,
                                    std::size_t sampled, std::size_t population);

}  // namespace fl::coordinator
