#include "fl/coordinator/privacy/client_dp.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace fl::coordinator {
namespace {

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.6g", v);
  return buffer;
}

// One noise stream per (seed, round, update), decorrelated by splitmix64's finaliser.
std::uint64_t noise_seed(std::uint64_t seed, std::uint64_t round, std::uint64_t index) {
  std::uint64_t z = seed * 0x9e3779b97f4a7c15ULL + round * 0xbf58476d1ce4e5b9ULL + index + 1;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

}  // namespace

std::string_view to_string(DpPlacement placement) {
  switch (placement) {
    case DpPlacement::kNone:
      return "none";
    case DpPlacement::kCentral:
      return "central";
    case DpPlacement::kDistributed:
      return "distributed";
  }
  return "none";
}

Status read_client_dp_settings(const common::ConfigTable& p, std::uint64_t seed,
                               ClientDpSettings& out) {
  out.seed = seed;
  FL_ASSIGN_OR_RETURN(auto mode, p.text("mode", "none"));
  if (mode == "none") {
    out.mode = DpPlacement::kNone;
  } else if (mode == "central") {
    out.mode = DpPlacement::kCentral;
  } else if (mode == "distributed") {
    out.mode = DpPlacement::kDistributed;
  } else {
    return make_error(ErrorCode::kInvalidArgument, p.where("mode") +
                                                       " must be \"none\", \"central\" or "
                                                       "\"distributed\", got \"" +
                                                       mode + "\"");
  }
  for (const auto* key :
       {"clip_norm", "noise_multiplier", "target_epsilon", "target_delta", "min_workers"}) {
    if (!out.enabled() && p.has(key)) {
      return make_error(ErrorCode::kInvalidArgument,
                        p.where(key) +
                            " is set but privacy.mode is \"none\"; set mode = "
                            "\"central\" or \"distributed\", or drop the key");
    }
  }
  if (!out.enabled()) return ok_status();
  FL_ASSIGN_OR_RETURN(out.clip_norm, p.number("clip_norm", out.clip_norm, 1e-12, 1e12));
  FL_ASSIGN_OR_RETURN(out.noise_multiplier,
                      p.number("noise_multiplier", out.noise_multiplier, 0, 1e6));
  if (!p.has("target_epsilon")) {
    return make_error(ErrorCode::kInvalidArgument,
                      p.where("target_epsilon") +
                          " is required with DP on: the (epsilon, delta) budget the job may "
                          "spend (fl-coordinator dp-epsilon tells what a plan spends)");
  }
  FL_ASSIGN_OR_RETURN(out.target_epsilon, p.number("target_epsilon", std::nullopt, 1e-9, 1e9));
  FL_ASSIGN_OR_RETURN(out.target_delta, p.number("target_delta", out.target_delta, 1e-300, 0.5));
  if (out.mode == DpPlacement::kDistributed) {
    if (!p.has("min_workers")) {
      return make_error(ErrorCode::kInvalidArgument,
                        p.where("min_workers") +
                            " is required with mode = \"distributed\": the fewest honest "
                            "answers whose noise shares add up to the full noise");
    }
    FL_ASSIGN_OR_RETURN(auto m, p.integer("min_workers", std::nullopt, 1, 1'000'000));
    out.min_workers = static_cast<int>(m);
  } else if (p.has("min_workers")) {
    return make_error(ErrorCode::kInvalidArgument,
                      p.where("min_workers") + " applies to mode = \"distributed\" only");
  }
  return ok_status();
}

std::string describe(const ClientDpSettings& s) {
  if (!s.enabled()) return "no DP";
  std::string out = std::string(to_string(s.mode)) + " DP: clip " + number(s.clip_norm) +
                    ", sigma " + number(s.noise_multiplier);
  if (s.mode == DpPlacement::kDistributed) out += ", m " + std::to_string(s.min_workers);
  return out + ", budget epsilon " + number(s.target_epsilon) + " at delta " +
         number(s.target_delta);
}

common::TaskPrivacy task_privacy(const ClientDpSettings& s) {
  if (s.mode != DpPlacement::kDistributed) return {};
  return {s.clip_norm, s.noise_multiplier, static_cast<std::uint32_t>(s.min_workers)};
}

double distributed_norm_bound(const ClientDpSettings& s, std::size_t dimensions) {
  const double share = task_privacy(s).worker_stddev();
  return s.clip_norm + share * (std::sqrt(static_cast<double>(dimensions)) + 4.0);
}

PrivateUpdates privatize_updates(const ClientDpSettings& s, std::uint64_t round,
                                 std::vector<UpdateView>& views) {
  PrivateUpdates out;
  if (!s.enabled()) return out;
  const auto n = views.size();
  if (s.mode == DpPlacement::kDistributed && n < static_cast<std::size_t>(s.min_workers)) {
    out.refusal = "privacy refused: " + std::to_string(n) + " accepted updates, fewer than the " +
                  std::to_string(s.min_workers) +
                  " (privacy.min_workers) whose noise shares make the full noise";
    return out;
  }
  out.values.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    auto& copy = out.values.emplace_back(views[i].values.begin(), views[i].values.end());
    const double bound =
        s.mode == DpPlacement::kCentral ? s.clip_norm : distributed_norm_bound(s, copy.size());
    if (common::clip_to_norm(copy, bound) < 1) ++out.clipped;
    if (s.mode == DpPlacement::kCentral) {
      const double share = s.noise_multiplier * s.clip_norm / std::sqrt(static_cast<double>(n));
      common::add_gaussian_noise(copy, share, noise_seed(s.seed, round, i));
    }
  }
  for (std::size_t i = 0; i < n; ++i) views[i] = UpdateView{out.values[i], 1.0};
  return out;
}

Result<RoundSpend> next_round_spend(const common::RdpComposition& spent, const ClientDpSettings& s,
                                    std::uint64_t round, std::size_t sampled,
                                    std::size_t population) {
  RoundSpend out;
  out.sample_rate =
      population == 0
          ? 1.0
          : std::min(1.0, static_cast<double>(sampled) / static_cast<double>(population));
  FL_ASSIGN_OR_RETURN(out.epsilon,
                      spent.epsilon_after(out.sample_rate, s.noise_multiplier, s.target_delta));
  out.within_budget = out.epsilon <= s.target_epsilon;
  if (!out.within_budget) {
    out.reason = "privacy budget spent: round " + std::to_string(round) + " (q " +
                 number(out.sample_rate) + ", sigma " + number(s.noise_multiplier) +
                 ") would bring epsilon to " + number(out.epsilon) + ", over the budget of " +
                 number(s.target_epsilon) + " at delta " + number(s.target_delta) +
                 "; the job stops after " + std::to_string(spent.rounds()) + " DP rounds";
  }
  return out;
}

}  // namespace fl::coordinator
