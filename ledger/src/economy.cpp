#include "fl/ledger/economy.hpp"

#include <cmath>

namespace fl::ledger {

using common::short_id;

Result<AppendedBlock> slash_equivocation(Ledger& ledger, const common::KeyPair& authority,
                                         const EquivocationEvidence& evidence, double fraction) {
  const auto& account = evidence.first.worker;
  if (auto problem = evidence_problem(evidence, account)) {
    return make_error(ErrorCode::kPrecondition, "not proof of equivocation: " + *problem);
  }
  if (!(fraction > 0 && fraction <= 1)) {
    return make_error(ErrorCode::kInvalidArgument, "slash fraction must be in (0, 1], not " + std::to_string(fraction));
  }
  const auto* held = ledger.state().find(account);
  const std::uint64_t stake = held ? held->stake : 0;
  const auto amount = static_cast<std::uint64_t>(std::floor(static_cast<long double>(stake) * fraction));
  if (amount == 0) {
    return make_error(ErrorCode::kPrecondition, "worker " + short_id(account) + " equivocated in job '" +
                                                    evidence.first.job_id + "' round " +
                                                    std::to_string(evidence.first.round) + " but holds a stake of " +
                                                    std::to_string(stake) + ": nothing to slash");
  }
  SlashBody body{account,
                 "equivocation: two signed updates for job '" + evidence.first.job_id + "' round " +
                     std::to_string(evidence.first.round),
                 amount, evidence};
  return ledger.submit(authority, std::move(body));
}

Result<std::optional<AppendedBlock>> refund_escrow(Ledger& ledger, const common::KeyPair& issuer,
                                                   const std::string& job_id) {
  const auto& jobs = ledger.state().jobs();
  const auto job = jobs.find(job_id);
  if (job == jobs.end() || !job->second.escrow_funded || job->second.closed) return std::optional<AppendedBlock>{};
  FL_ASSIGN_OR_RETURN(auto block, ledger.submit(issuer, RefundBody{job_id, job->second.escrow}));
  return std::optional<AppendedBlock>(std::move(block));
}

Status check_bounty(const LedgerState& state, const std::string& job_id, const common::PublicKey& researcher,
                    std::uint64_t bounty) {
  if (bounty == 0 || state.jobs().count(job_id)) return ok_status();
  const auto* account = state.find(researcher);
  const std::uint64_t balance = account ? account->balance : 0;
  if (balance >= bounty) return ok_status();
  return make_error(ErrorCode::kPrecondition,
                    "[ledger] bounty = " + std::to_string(bounty) + " but researcher " + short_id(researcher) +
                        " holds " + std::to_string(balance) +
                        " tokens; fund it first (`fl-ledger issue --to " + common::to_hex(researcher) +
                        " --amount N` with the authority key, or a transfer), or set bounty = 0 to mint rewards");
}

}  // namespace fl::ledger
