// Turns a round's contribution scores into token amounts. The coordinator computes the scores
// (positive part of the cosine similarity to the robust aggregate); the ledger splits the job's
// reward per round in proportion to them, in integers, so `verify` re-derives every mint.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

// Largest-remainder split of `budget` in proportion to max(score, 0). Each positive score is
// first fixed to an integer weight round(score / max_score * 2^52) so the split is exact
// integer arithmetic; leftover units go to the largest remainders, ties to the smaller worker
// key. Scores <= 0 (and non-finite ones) earn 0; if no score is positive nothing is paid.
// Returns one amount per entry, in the order given; the amounts sum to budget or to 0.
std::vector<std::uint64_t> split_reward(std::uint64_t budget, std::span<const AcceptedEntry> accepted);

}  // namespace fl::ledger
