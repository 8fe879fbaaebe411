#include "terms_rules.hpp"

#include <algorithm>

namespace fl::ledger {
namespace {

using common::short_id;

Error rule_error(std::string message) { return make_error(ErrorCode::kPrecondition, std::move(message)); }

std::optional<PrivacyBudget> budget_of(const common::JobTerms& terms) {
  if (!terms.privacy) return std::nullopt;
  return PrivacyBudget{terms.privacy->epsilon, terms.privacy->delta};
}

}  // namespace

Status check_job_terms(const OpenJobBody& job, const common::PublicKey& issuer) {
  if (!job.terms) return ok_status();
  const auto& t = *job.terms;
  const std::string where = "open-job '" + job.job_id + "': its terms ";
  if (auto problem = common::terms_problem(t)) return rule_error(where + "are not valid: " + *problem);
  if (t.job_id != job.job_id) return rule_error(where + "are for job '" + t.job_id + "'");
  if (t.researcher != issuer) {
    return rule_error(where + "name researcher " + short_id(t.researcher) + ", but " + short_id(issuer) +
                      " opened the job");
  }
  if (t.model != job.model) return rule_error(where + "name model '" + t.model + "', the job runs '" + job.model + "'");
  if (t.reward_per_round != job.reward_per_round) {
    return rule_error(where + "promise " + std::to_string(t.reward_per_round) + " a round, the job pays " +
                      std::to_string(job.reward_per_round));
  }
  if (budget_of(t) != job.privacy_budget) {
    return rule_error(where + "state another privacy target than the job's budget");
  }
  return ok_status();
}

Status check_round_terms(const JobState& job, const RoundResultBody& round, const common::PublicKey& recorder) {
  const std::string where = "job '" + round.job_id + "' round " + std::to_string(round.round);
  const auto& terms = job.job.terms;
  if (!terms) {
    if (round.terms_digest) return rule_error(where + " names terms, but the job was opened without any");
    return ok_status();
  }
  if (!round.terms_digest) return rule_error(where + " does not name the terms it ran under");
  if (*round.terms_digest != job.terms_digest) {
    return rule_error(where + " ran under terms " + common::to_hex(*round.terms_digest).substr(0, 16) +
                      ", not the job's " + common::to_hex(job.terms_digest).substr(0, 16) +
                      " (terms cannot change during a job)");
  }
  if (round.round == 0 || round.round > terms->rounds) {
    return rule_error(where + " is outside the " + std::to_string(terms->rounds) + " rounds of the job's terms");
  }
  const auto& allowed = terms->coordinators;
  if (std::find(allowed.begin(), allowed.end(), recorder) == allowed.end()) {
    return rule_error(where + " was recorded by " + short_id(recorder) +
                      ", which the job's terms do not allow to run it");
  }
  for (std::size_t i = 0; i < round.accepted.size(); ++i) {
    const auto& worker = round.accepted[i].worker;
    if (!job.consents.count(worker)) {
      return rule_error(where + ": accepted update " + std::to_string(i) + " is from " + short_id(worker) +
                        ", which never consented to the job's terms");
    }
  }
  return ok_status();
}

Status check_consent(const JobState* job, const ConsentBody& consent, const common::PublicKey& worker,
                     const AccountState* account) {
  const std::string who = "consent of " + short_id(worker) + " to job '" + consent.job_id + "'";
  if (!job) return rule_error(who + ", which was never opened");
  if (!job->job.terms) return rule_error(who + ", which has no terms");
  if (job->closed) return rule_error(who + ", which is closed");
  if (consent.terms_digest != job->terms_digest) {
    return rule_error(who + " is to terms " + common::to_hex(consent.terms_digest).substr(0, 16) + ", not the job's " +
                      common::to_hex(job->terms_digest).substr(0, 16));
  }
  if (!account || !account->registered) return rule_error(who + ": the worker is not registered");
  if (job->consents.count(worker)) return rule_error(who + " is already recorded");
  return ok_status();
}

}  // namespace fl::ledger
