// The job terms a coordinator offers with its registration challenge, judged by this worker:
// signed by the researcher they name, for the job and coordinator at hand, the ones the job
// card names (if there is one), and allowed by the worker's policy (if it has one).
// `fl-worker check` prints the result without registering; `fl-worker run` consents only to
// terms that pass.
#pragma once

#include <optional>
#include <string>

#include "fl/common/job_terms.hpp"
#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/worker/worker.hpp"

namespace fl::worker {

struct JobCheck {
  std::optional<common::JobTerms> terms;  // none: the coordinator offered no terms
  common::Digest digest{};                // terms_digest(*terms), zero without terms
  std::optional<std::string> refusal;     // the policy clause that failed; nullopt: accepted
};

// An error when the offer is not trustworthy (malformed, unsigned, for another job, coordinator
// or job card); a refusal when the policy says no.
Result<JobCheck> judge_offered_terms(const common::RegisterAck& challenge, const WorkerOptions& options,
                                     const common::PublicKey& coordinator_key);

// Connects to the coordinator, reads the terms offered with the challenge and judges them;
// never registers. Needs the coordinator key pinned, like run_worker. Never throws.
Result<JobCheck> check_job(const WorkerOptions& options);

}  // namespace fl::worker
