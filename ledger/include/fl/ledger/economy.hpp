// The token economy's actions on a ledger, shared by the coordinator and `fl-ledger`: slashing
// an equivocating worker with both of its signed updates as the evidence, returning a job's
// unspent escrow, and checking that a researcher can fund a bounty before a job opens. The
// rules they must pass are LedgerState's (state.hpp); these only build the transactions.
#pragma once

#include <optional>
#include <string>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/ledger.hpp"

namespace fl::ledger {

// floor(stake x fraction) of the equivocator's stake, in a slash signed by `authority` that
// carries the evidence. kPrecondition when the evidence does not prove equivocation or there is
// no stake to slash (the message says which).
Result<AppendedBlock> slash_equivocation(Ledger& ledger, const common::KeyPair& authority,
                                         const EquivocationEvidence& evidence, double fraction);

// The refund that closes an escrow-funded job, signed by `issuer` (the authority or the job's
// researcher); nullopt when the job is not escrow-funded or already closed.
Result<std::optional<AppendedBlock>> refund_escrow(Ledger& ledger, const common::KeyPair& issuer,
                                                   const std::string& job_id);

// Before a job opens with `bounty`: the researcher's balance must hold it. A job already on
// the ledger passes (its escrow was made when it opened).
Status check_bounty(const LedgerState& state, const std::string& job_id,
                    const common::PublicKey& researcher, std::uint64_t bounty);

}  // namespace fl::ledger
