// Turns a round's contribution scores into token amounts. The coordinator computes the scores
// (its scorer, coordinator/contribution.hpp); the ledger sets what the round pays in all
// (round_budget) and splits it in proportion to the scores, in integers, so `verify` re-derives
// every mint and payout.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fl/ledger/state.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

// Largest-remainder split of `budget` in proportion to max(score, 0). Each positive score is
// first fixed to an integer weight round(score / max_score * 2^52) so the split is exact
// integer arithmetic; leftover units go to the largest remainders, ties to the smaller worker
// key. Scores <= 0 (and non-finite ones) earn 0; if no score is positive nothing is paid.
// Returns one amount per entry, in the order given; the amounts sum to budget or to 0.
// A round that recorded a validation loss that did not improve pays at most 1/10 of its share.
inline constexpr std::uint64_t kNoImprovementDivisor = 10;
// What a round pays in all: the job's reward per round, divided by kNoImprovementDivisor
// (rounded down) when the round records a validation loss that did not go down, and never
// more than the escrow left when the job is escrow-funded.
std::uint64_t round_budget(const JobState& job, const RoundResultBody& round);
// The share of a round's budget its validation record allows: 1, or 1/kNoImprovementDivisor
// (what `simulate` applies to its unit budget).
double improvement_share(const std::optional<RoundValidation>& validation);

std::vector<std::uint64_t> split_reward(std::uint64_t budget, std::span<const AcceptedEntry> accepted);

}  // namespace fl::ledger
