#include "fl/ledger/rewards.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fl::ledger {

__extension__ typedef unsigned __int128 Uint128;  // exact products of u64 amounts

std::uint64_t round_budget(const JobState& job, const RoundResultBody& round) {
  std::uint64_t budget = job.job.reward_per_round;
  if (round.validation && !round.validation->improved()) budget /= kNoImprovementDivisor;
  return job.escrow_funded ? std::min(budget, job.escrow) : budget;
}

double improvement_share(const std::optional<RoundValidation>& validation) {
  return validation && !validation->improved() ? 1.0 / static_cast<double>(kNoImprovementDivisor) : 1.0;
}

std::vector<std::uint64_t> split_reward(std::uint64_t budget, std::span<const AcceptedEntry> accepted) {
  const std::size_t n = accepted.size();
  std::vector<std::uint64_t> amounts(n, 0);
  auto positive = [](double s) { return std::isfinite(s) && s > 0.0 ? s : 0.0; };
  double max_score = 0.0;
  for (const auto& a : accepted) max_score = std::max(max_score, positive(a.score));
  if (max_score <= 0.0 || budget == 0) return amounts;

  constexpr double kScale = 4503599627370496.0;  // 2^52
  std::vector<std::uint64_t> weight(n, 0);
  Uint128 total = 0;
  for (std::size_t i = 0; i < n; ++i) {
    weight[i] = static_cast<std::uint64_t>(std::llround(positive(accepted[i].score) / max_score * kScale));
    total += weight[i];
  }
  // total >= 2^52 > 0 because the largest score maps to exactly 2^52.
  std::vector<Uint128> remainder(n, 0);
  std::uint64_t paid = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const Uint128 share = static_cast<Uint128>(budget) * weight[i];
    amounts[i] = static_cast<std::uint64_t>(share / total);
    remainder[i] = share % total;
    paid += amounts[i];
  }
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
    if (remainder[a] != remainder[b]) return remainder[a] > remainder[b];
    return accepted[a].worker < accepted[b].worker;
  });
  // Fewer than n units are left over, and only entries with weight > 0 have a remainder.
  for (std::size_t k = 0; paid < budget && k < n; ++k) {
    if (weight[order[k]] == 0) continue;
    ++amounts[order[k]];
    ++paid;
  }
  return amounts;
}

}  // namespace fl::ledger
