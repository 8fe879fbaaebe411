#include "fl/ledger/state.hpp"

#include <cmath>

#include "fl/ledger/rewards.hpp"
#include "privacy_rules.hpp"
#include "terms_rules.hpp"

namespace fl::ledger {

__extension__ typedef unsigned __int128 Uint128;  // exact products of u64 amounts
namespace {

using common::short_id;

Error rule_error(std::string message) { return make_error(ErrorCode::kPrecondition, std::move(message)); }

std::string amount_str(std::uint64_t v) { return std::to_string(v); }

bool add_overflows(std::uint64_t a, std::uint64_t b) { return a > UINT64_MAX - b; }

}  // namespace

const AccountState* LedgerState::find(const common::PublicKey& key) const {
  auto it = accounts_.find(key);
  return it == accounts_.end() ? nullptr : &it->second;
}

std::uint64_t LedgerState::next_nonce(const common::PublicKey& key) const {
  const auto* a = find(key);
  return a ? a->next_nonce : 1;
}

std::uint64_t LedgerState::total_balances() const {
  std::uint64_t sum = 0;
  for (const auto& [k, a] : accounts_) sum += a.balance;
  return sum;
}

std::uint64_t LedgerState::total_escrow() const {
  std::uint64_t sum = 0;
  for (const auto& [id, j] : jobs_) sum += j.escrow;
  return sum;
}

std::uint64_t LedgerState::total_stakes() const {
  std::uint64_t sum = 0;
  for (const auto& [k, a] : accounts_) sum += a.stake;
  return sum;
}

Status LedgerState::apply(const Transaction& tx) {
  if (!pending_payments_.empty() && tx.type() != pending_payments_.front().type) {
    const auto& m = pending_payments_.front();
    return rule_error("expected the " + std::string(to_string(m.type)) + " of " + amount_str(m.amount) + " to " + short_id(m.to) +
                      " for job '" + m.job_id + "' round " + std::to_string(m.round) + ", found a " +
                      std::string(to_string(tx.type())) + " transaction");
  }
  // Work on a copy of the issuer's account so a failed rule leaves the state unchanged.
  AccountState issuer = accounts_.count(tx.issuer) ? accounts_.at(tx.issuer) : AccountState{};
  if (tx.type() == TxType::kRegister) {
    if (tx.nonce != 0) return rule_error("registration must carry nonce 0, has " + std::to_string(tx.nonce));
    if (issuer.registered) return rule_error("worker " + short_id(tx.issuer) + " is already registered");
  } else if (tx.type() == TxType::kConsent) {
    if (tx.nonce != 0) return rule_error("consent must carry nonce 0, has " + std::to_string(tx.nonce));
  } else if (tx.nonce != issuer.next_nonce) {
    return rule_error("nonce " + std::to_string(tx.nonce) + " of " + short_id(tx.issuer) + " is not the expected " +
                      std::to_string(issuer.next_nonce) + " (replayed or out of order)");
  } else {
    ++issuer.next_nonce;
  }
  FL_RETURN_IF_ERROR(apply_body(tx, issuer));
  return ok_status();
}

Status LedgerState::apply_body(const Transaction& tx, AccountState& issuer) {
  auto require = [&](bool minter) -> Status {
    if (minter ? consortium_.is_minter(tx.issuer) : consortium_.is_member(tx.issuer)) return ok_status();
    return rule_error(std::string(to_string(tx.type())) + " issued by " + short_id(tx.issuer) + ", which is not " +
                      (minter ? "a minter" : "a member") + " of the consortium (epoch " +
                      std::to_string(consortium_.epoch) + ", " + std::to_string(consortium_.members.size()) +
                      " members; `fl-ledger consortium show`)");
  };
  auto require_member = [&] { return require(false); };
  auto require_minter = [&] { return require(true); };
  auto commit_issuer = [&] { accounts_[tx.issuer] = issuer; };

  switch (tx.type()) {
    case TxType::kRegister: {
      issuer.registered = true;
      issuer.dataset_fingerprint = std::get<RegisterBody>(tx.body).dataset_fingerprint;
      commit_issuer();
      return ok_status();
    }
    case TxType::kOpenJob: {
      const auto& b = std::get<OpenJobBody>(tx.body);
      if (b.job_id.empty()) return rule_error("open-job has an empty job id");
      if (jobs_.count(b.job_id)) return rule_error("job '" + b.job_id + "' is already open");
      FL_RETURN_IF_ERROR(check_privacy_budget(b));
      FL_RETURN_IF_ERROR(check_job_terms(b, tx.issuer));
      auto& job = jobs_[b.job_id] = JobState{b, tx.issuer, {}, std::nullopt};
      if (b.terms) job.terms_digest = common::terms_digest(*b.terms);
      commit_issuer();
      return ok_status();
    }
    case TxType::kConsent: {
      const auto& b = std::get<ConsentBody>(tx.body);
      auto job = jobs_.find(b.job_id);
      FL_RETURN_IF_ERROR(check_consent(job == jobs_.end() ? nullptr : &job->second, b, tx.issuer, find(tx.issuer)));
      job->second.consents.insert(tx.issuer);
      return ok_status();
    }
    case TxType::kRoundResult:
      FL_RETURN_IF_ERROR(require_member());
      return apply_round_result(tx, issuer);
    case TxType::kRewardMint:
      FL_RETURN_IF_ERROR(require_minter());
      return apply_payment(tx, issuer);
    case TxType::kPayout:
      FL_RETURN_IF_ERROR(require_member());
      return apply_payment(tx, issuer);
    case TxType::kConsortium:
      FL_RETURN_IF_ERROR(apply_consortium(tx));
      commit_issuer();
      return ok_status();
    case TxType::kEscrow:
    case TxType::kRefund:
      return apply_escrow(tx, issuer);
    case TxType::kIssue: {
      FL_RETURN_IF_ERROR(require_minter());
      const auto& b = std::get<IssueBody>(tx.body);
      if (b.amount == 0) return rule_error("issue of 0 tokens");
      if (add_overflows(minted_, b.amount)) return rule_error("issue overflows the token supply");
      commit_issuer();
      accounts_[b.to].balance += b.amount;
      minted_ += b.amount;
      issued_ += b.amount;
      return ok_status();
    }
    case TxType::kTransfer: {
      const auto& b = std::get<TransferBody>(tx.body);
      if (b.amount == 0) return rule_error("transfer of 0 tokens");
      if (b.to == tx.issuer) return rule_error("transfer from " + short_id(tx.issuer) + " to itself");
      if (issuer.balance < b.amount) {
        return rule_error("transfer of " + amount_str(b.amount) + " exceeds the balance " + amount_str(issuer.balance) +
                          " of " + short_id(tx.issuer));
      }
      issuer.balance -= b.amount;
      commit_issuer();
      accounts_[b.to].balance += b.amount;
      return ok_status();
    }
    case TxType::kStake: {
      const auto amount = std::get<StakeBody>(tx.body).amount;
      if (amount == 0) return rule_error("stake of 0 tokens");
      if (issuer.balance < amount) {
        return rule_error("stake of " + amount_str(amount) + " exceeds the balance " + amount_str(issuer.balance) +
                          " of " + short_id(tx.issuer));
      }
      issuer.balance -= amount;
      issuer.stake += amount;
      commit_issuer();
      return ok_status();
    }
    case TxType::kUnstake: {
      const auto amount = std::get<UnstakeBody>(tx.body).amount;
      if (amount == 0) return rule_error("unstake of 0 tokens");
      if (issuer.stake < amount) {
        return rule_error("unstake of " + amount_str(amount) + " exceeds the stake " + amount_str(issuer.stake) +
                          " of " + short_id(tx.issuer));
      }
      issuer.stake -= amount;
      issuer.balance += amount;
      commit_issuer();
      return ok_status();
    }
    case TxType::kSlash: {
      FL_RETURN_IF_ERROR(require_member());
      const auto& b = std::get<SlashBody>(tx.body);
      if (b.amount == 0) return rule_error("slash of 0 tokens");
      std::optional<std::tuple<common::PublicKey, std::string, std::uint64_t>> offence;
      if (b.evidence) {
        if (auto problem = evidence_problem(*b.evidence, b.account)) {
          return rule_error("slash of " + short_id(b.account) + ": " + *problem);
        }
        offence.emplace(b.account, b.evidence->first.job_id, b.evidence->first.round);
        if (slashed_offences_.count(*offence)) {
          return rule_error("slash of " + short_id(b.account) + ": its equivocation in job '" +
                            b.evidence->first.job_id + "' round " + std::to_string(b.evidence->first.round) +
                            " was already slashed (one offence, one slash)");
        }
      }
      const std::uint64_t stake = b.account == tx.issuer ? issuer.stake : (find(b.account) ? find(b.account)->stake : 0);
      if (stake < b.amount) {
        return rule_error("slash of " + amount_str(b.amount) + " exceeds the stake " + amount_str(stake) + " of " +
                          short_id(b.account));
      }
      commit_issuer();
      auto& acc = accounts_[b.account];
      acc.stake -= b.amount;
      acc.slashed += b.amount;
      slashed_ += b.amount;
      if (offence) slashed_offences_.insert(*offence);
      return ok_status();
    }
  }
  return make_error(ErrorCode::kInternal, "unhandled transaction type");
}

Status LedgerState::apply_consortium(const Transaction& tx) {
  const auto& b = std::get<ConsortiumBody>(tx.body);
  const auto& next = b.consortium;
  if (auto problem = consortium_problem(next)) return rule_error("consortium: " + *problem);
  if (height_ == 0) {
    // The founding consortium: named by the genesis proposer, who must be one of its members.
    if (next.epoch != 0) return rule_error("the genesis consortium has epoch " + std::to_string(next.epoch) + ", not 0");
    if (!b.approvals.empty()) return rule_error("the genesis consortium carries approvals (it needs none)");
    if (tx.issuer != authority_ || !next.is_member(tx.issuer)) {
      return rule_error("the genesis consortium must be issued by the genesis proposer " + short_id(authority_) +
                        " and name it a member");
    }
    consortium_ = founding_ = next;
    return ok_status();
  }
  if (!consortium_.is_member(tx.issuer)) {
    return rule_error("consortium change issued by " + short_id(tx.issuer) +
                      ", which is not a member of the consortium");
  }
  if (next.epoch != consortium_.epoch + 1) {
    return rule_error("consortium change to epoch " + std::to_string(next.epoch) + ", not the next epoch " +
                      std::to_string(consortium_.epoch + 1));
  }
  const auto digest = consortium_change_digest(consortium_, next);
  std::set<common::PublicKey> approvers;
  for (const auto& a : b.approvals) {
    if (!consortium_.is_member(a.member)) {
      return rule_error("consortium change approved by " + short_id(a.member) +
                        ", which is not a member of the consortium");
    }
    if (!approvers.insert(a.member).second) {
      return rule_error("consortium change approved twice by " + short_id(a.member));
    }
    if (!common::verify(a.member, digest, a.signature)) {
      return rule_error("consortium change: the approval of " + short_id(a.member) +
                        " does not verify (it approves another change, or was altered)");
    }
  }
  if (approvers.size() < consortium_.quorum) {
    return rule_error("consortium change approved by " + std::to_string(approvers.size()) + " of the " +
                      std::to_string(consortium_.members.size()) + " members; the quorum is " +
                      std::to_string(consortium_.quorum));
  }
  consortium_ = next;
  return ok_status();
}

Status LedgerState::check_block_contents(const BlockHeader& header, std::span<const Transaction> txs) const {
  if (height_ == 0) {
    if (txs.empty()) return ok_status();
    if (txs.size() != 1 || txs[0].type() != TxType::kConsortium || txs[0].issuer != header.proposer) {
      return rule_error("the genesis block may hold only one consortium transaction by its proposer, not " +
                        std::to_string(txs.size()) + " transactions");
    }
    return ok_status();
  }
  if (consortium_.is_member(header.proposer)) return ok_status();
  for (std::size_t i = 0; i < txs.size(); ++i) {
    const auto type = txs[i].type();
    const bool holder_type = type == TxType::kTransfer || type == TxType::kStake || type == TxType::kUnstake ||
                             type == TxType::kEscrow || type == TxType::kRefund;
    if (!holder_type || txs[i].issuer != header.proposer) {
      return rule_error("tx " + std::to_string(i) + ": a block proposed by " + short_id(header.proposer) +
                        " (not a member of the consortium) may hold only its own transfers, stakes, unstakes, escrows and refunds, not a " +
                        std::string(to_string(type)) + " by " + short_id(txs[i].issuer));
    }
  }
  return ok_status();
}

Status LedgerState::check_block_end() const {
  if (!pending_payments_.empty()) {
    const auto& m = pending_payments_.front();
    return rule_error("block ends without the " + std::string(to_string(m.type)) + " of " + amount_str(m.amount) + " to " + short_id(m.to) +
                      " for job '" + m.job_id + "' round " + std::to_string(m.round));
  }
  const Uint128 held = static_cast<Uint128>(total_balances()) + total_stakes() + total_escrow();
  const Uint128 supply = minted_ >= slashed_ ? minted_ - slashed_ : 0;
  if (held != supply || minted_ < slashed_) {
    return make_error(ErrorCode::kCorrupt,
                      "supply invariant broken: balances " + amount_str(total_balances()) + " + stakes " +
                          amount_str(total_stakes()) + " + escrow " + amount_str(total_escrow()) + " != minted " + amount_str(minted_) + " - slashed " +
                          amount_str(slashed_));
  }
  return ok_status();
}

}  // namespace fl::ledger
