// The ledger's rules for client-level DP jobs: an open-job's privacy budget must be a real
// (epsilon, delta), and each round result of such a job must record its (C, sigma, q) and the
// cumulative epsilon that re-accounting every recorded round gives, within the budget. Private
// to fl_ledger; LedgerState::apply calls these.
#pragma once

#include <optional>

#include "fl/common/rdp_composition.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/state.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

Status check_privacy_budget(const OpenJobBody& job);

struct AccountedRound {
  common::RdpComposition composition;  // the job's rounds including this one
  double epsilon = 0;                  // recomputed; equals the recorded value
};

// nullopt for a round of a job without a budget (which must then record no DP parameters);
// for a DP job, the composition after this round. Fails naming the round when the record is
// missing, its parameters are out of range, its epsilon differs from the recomputed one, or the
// budget is exceeded. `job` is not changed.
Result<std::optional<AccountedRound>> account_round_privacy(const JobState& job,
                                                            const RoundResultBody& round);

}  // namespace fl::ledger
