// The ledger's rules for job terms and consent: an open-job's terms must describe that job
// (id, researcher, model, reward, DP target); a round of a job with terms must name their digest,
// stay within their rounds, be recorded by a coordinator they allow, and pay only workers that
// consented to them; a consent must be to the job's terms, once per worker. Private to
// fl_ledger; LedgerState::apply calls these.
#pragma once

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/state.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

Status check_job_terms(const OpenJobBody& job, const common::PublicKey& issuer);
// `recorder` is the round result's issuer.
Status check_round_terms(const JobState& job, const RoundResultBody& round, const common::PublicKey& recorder);
Status check_consent(const JobState* job, const ConsentBody& consent, const common::PublicKey& worker,
                     const AccountState* account);

}  // namespace fl::ledger
