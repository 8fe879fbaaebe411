#include "fl/worker/job_check.hpp"

#include <algorithm>

namespace fl::worker {

Result<JobCheck> judge_offered_terms(const common::RegisterAck& ack, const WorkerOptions& o,
                                     const common::PublicKey& coordinator_key) {
  JobCheck check;
  if (ack.terms.empty()) {
    if (o.policy) check.refusal = o.policy->source + ": the coordinator offers no job terms to check the policy against";
    if (o.card_terms_digest) {
      return make_error(ErrorCode::kPrecondition, "the coordinator offers no job terms, but the job card names terms " +
                                                      common::to_hex(*o.card_terms_digest).substr(0, 16));
    }
    return check;
  }
  auto terms = common::parse_terms(ack.terms);
  if (!terms.ok()) return with_context(terms.error(), "the coordinator's offer");
  check.digest = common::terms_digest(*terms);
  const auto id = common::to_hex(check.digest).substr(0, 16);
  if (!common::verify(terms->researcher, check.digest, ack.terms_signature)) {
    return make_error(ErrorCode::kBadSignature, "the job terms " + id + " are not signed by the researcher they name (" +
                                                    common::short_id(terms->researcher) + ")");
  }
  if (terms->job_id != ack.job_id) {
    return make_error(ErrorCode::kPrecondition,
                      "the coordinator runs job '" + ack.job_id + "' but offers terms for '" + terms->job_id + "'");
  }
  const auto& allowed = terms->coordinators;
  if (std::find(allowed.begin(), allowed.end(), coordinator_key) == allowed.end()) {
    return make_error(ErrorCode::kPrecondition, "the job terms " + id + " do not allow coordinator " +
                                                    common::short_id(coordinator_key) + " to run the job");
  }
  if (o.card_terms_digest && *o.card_terms_digest != check.digest) {
    return make_error(ErrorCode::kPrecondition, "the coordinator offers terms " + id + ", the job card names " +
                                                    common::to_hex(*o.card_terms_digest).substr(0, 16) +
                                                    " (ask the researcher for the current card)");
  }
  if (o.card_researcher && *o.card_researcher != terms->researcher) {
    return make_error(ErrorCode::kPrecondition, "the job terms name researcher " + common::short_id(terms->researcher) +
                                                    ", the job card was signed by " +
                                                    common::short_id(*o.card_researcher));
  }
  if (o.policy) check.refusal = policy_refusal(*o.policy, *terms);
  check.terms = std::move(terms).value();
  return check;
}

}  // namespace fl::worker
