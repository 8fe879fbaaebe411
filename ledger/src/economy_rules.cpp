// The ledger's token rules for rounds: what a round pays (rewards.hpp: round_budget), whether
// it is minted or paid from the job's escrow, and the escrow's funding and refund. Part of
// LedgerState::apply (state.hpp); on error the state is unchanged.
#include <cmath>
#include <set>

#include "fl/ledger/rewards.hpp"
#include "fl/ledger/state.hpp"
#include "privacy_rules.hpp"
#include "terms_rules.hpp"

namespace fl::ledger {
namespace {

using common::short_id;

Error rule_error(std::string message) { return make_error(ErrorCode::kPrecondition, std::move(message)); }

}  // namespace

Status LedgerState::apply_round_result(const Transaction& tx, AccountState& issuer) {
  const auto& b = std::get<RoundResultBody>(tx.body);
  auto job = jobs_.find(b.job_id);
  if (job == jobs_.end()) return rule_error("round result for job '" + b.job_id + "', which was never opened");
  if (job->second.closed) {
    return rule_error("round result for job '" + b.job_id + "', which was closed by its refund");
  }
  if (job->second.rounds.count(b.round)) {
    return rule_error("job '" + b.job_id + "' round " + std::to_string(b.round) + " is already recorded");
  }
  if (b.validation && !(std::isfinite(b.validation->loss_before) && std::isfinite(b.validation->loss_after))) {
    return rule_error("job '" + b.job_id + "' round " + std::to_string(b.round) + " records a non-finite validation loss");
  }
  if (!b.score_reasons.empty() && b.score_reasons.size() != b.accepted.size()) {
    return rule_error("round result records " + std::to_string(b.score_reasons.size()) + " score reasons for " +
                      std::to_string(b.accepted.size()) + " accepted updates");
  }
  for (std::size_t i = 0; i < b.score_reasons.size(); ++i) {
    if (!b.score_reasons[i].empty() && b.accepted[i].score > 0) {
      return rule_error("accepted update " + std::to_string(i) + " (" + short_id(b.accepted[i].worker) +
                        ") was screened out (" + b.score_reasons[i] + ") but has a positive score");
    }
  }
  FL_RETURN_IF_ERROR(check_round_terms(job->second, b, tx.issuer));
  FL_ASSIGN_OR_RETURN(auto privacy, account_round_privacy(job->second, b));
  std::set<common::PublicKey> seen;
  for (std::size_t i = 0; i < b.accepted.size(); ++i) {
    const auto& a = b.accepted[i];
    const std::string where = "accepted update " + std::to_string(i) + " (" + short_id(a.worker) + ")";
    if (!std::isfinite(a.score)) return rule_error(where + " has a non-finite score");
    if (!seen.insert(a.worker).second) return rule_error(where + " names its worker twice");
    const auto* w = find(a.worker);
    if (w == nullptr || !w->registered) return rule_error(where + ": worker is not registered");
  }
  auto& state = job->second;
  const auto budget = round_budget(state, b);
  const auto amounts = split_reward(budget, b.accepted);
  std::map<common::PublicKey, std::uint64_t> by_key;
  for (std::size_t i = 0; i < amounts.size(); ++i) {
    if (amounts[i] > 0) by_key[b.accepted[i].worker] = amounts[i];
  }
  state.rounds.insert(b.round);
  state.last_round = RecordedRound{b.round, b.model_digest, height_};
  state.round_budget[b.round] = budget;
  if (privacy) {
    state.privacy_spent = std::move(privacy->composition);
    state.epsilon_spent = privacy->epsilon;
  }
  const TxType pays = state.escrow_funded ? TxType::kPayout : TxType::kRewardMint;
  for (const auto& [worker, amount] : by_key) pending_payments_.push_back({pays, b.job_id, b.round, worker, amount});
  accounts_[tx.issuer] = issuer;
  for (const auto& a : b.accepted) ++accounts_[a.worker].rounds_contributed;
  for (const auto& r : b.rejected) ++accounts_[r.worker].rejections;
  return ok_status();
}

Status LedgerState::apply_payment(const Transaction& tx, AccountState& issuer) {
  const bool payout = tx.type() == TxType::kPayout;
  std::string job_id;
  std::uint64_t round = 0, amount = 0;
  common::PublicKey to{};
  if (payout) {
    const auto& b = std::get<PayoutBody>(tx.body);
    std::tie(job_id, round, to, amount) = std::tie(b.job_id, b.round, b.to, b.amount);
  } else {
    const auto& b = std::get<RewardMintBody>(tx.body);
    std::tie(job_id, round, to, amount) = std::tie(b.job_id, b.round, b.to, b.amount);
  }
  const std::string what = std::string(to_string(tx.type())) + " of " + std::to_string(amount) + " to " + short_id(to);
  if (pending_payments_.empty()) return rule_error(what + " is not called for by a round result");
  const auto& e = pending_payments_.front();
  if (e.type != tx.type() || job_id != e.job_id || round != e.round || to != e.to || amount != e.amount) {
    return rule_error(what + " for job '" + job_id + "' round " + std::to_string(round) +
                      " differs from the split, which pays (" + std::string(to_string(e.type)) + ") " +
                      std::to_string(e.amount) + " to " + short_id(e.to));
  }
  if (payout) {
    auto& job = jobs_.at(job_id);  // the round result named an open job
    if (job.escrow < amount) {
      return rule_error(what + " exceeds the escrow " + std::to_string(job.escrow) + " of job '" + job_id + "'");
    }
    job.escrow -= amount;
  } else {
    if (minted_ > UINT64_MAX - amount) return rule_error("reward mint overflows the token supply");
    minted_ += amount;
  }
  accounts_[tx.issuer] = issuer;
  auto& account = accounts_[to];
  account.balance += amount;
  account.earned += amount;
  pending_payments_.pop_front();
  return ok_status();
}

Status LedgerState::apply_escrow(const Transaction& tx, AccountState& issuer) {
  const bool escrow = tx.type() == TxType::kEscrow;
  const auto& job_id = escrow ? std::get<EscrowBody>(tx.body).job_id : std::get<RefundBody>(tx.body).job_id;
  const auto amount = *tx.amount();
  auto it = jobs_.find(job_id);
  if (it == jobs_.end()) return rule_error(std::string(to_string(tx.type())) + " for job '" + job_id + "', which was never opened");
  auto& job = it->second;
  if (job.closed) return rule_error(std::string(to_string(tx.type())) + " for job '" + job_id + "', which is closed");
  if (escrow) {
    if (tx.issuer != job.researcher) {
      return rule_error("escrow for job '" + job_id + "' by " + short_id(tx.issuer) + ", not by its researcher " +
                        short_id(job.researcher));
    }
    if (amount == 0) return rule_error("escrow of 0 tokens");
    if (issuer.balance < amount) {
      return rule_error("escrow of " + std::to_string(amount) + " exceeds the balance " +
                        std::to_string(issuer.balance) + " of researcher " + short_id(tx.issuer));
    }
    issuer.balance -= amount;
    job.escrow += amount;
    job.escrow_funded = true;
    accounts_[tx.issuer] = issuer;
    return ok_status();
  }
  if (tx.issuer != job.researcher && !consortium_.is_member(tx.issuer)) {
    return rule_error("refund for job '" + job_id + "' by " + short_id(tx.issuer) +
                      ", neither its researcher nor a member of the consortium");
  }
  if (amount != job.escrow) {
    return rule_error("refund of " + std::to_string(amount) + " for job '" + job_id + "', whose escrow holds " +
                      std::to_string(job.escrow) + " (a refund returns all of it)");
  }
  job.escrow = 0;
  job.closed = true;
  accounts_[tx.issuer] = issuer;
  accounts_[job.researcher].balance += amount;
  return ok_status();
}

}  // namespace fl::ledger
