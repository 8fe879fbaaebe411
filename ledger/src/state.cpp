#include "fl/ledger/state.hpp"

#include <cmath>

#include "fl/ledger/rewards.hpp"
#include "privacy_rules.hpp"

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

std::uint64_t LedgerState::total_stakes() const {
  std::uint64_t sum = 0;
  for (const auto& [k, a] : accounts_) sum += a.stake;
  return sum;
}

Status LedgerState::apply(const Transaction& tx) {
  if (!pending_mints_.empty() && tx.type() != TxType::kRewardMint) {
    const auto& m = pending_mints_.front();
    return rule_error("expected the reward mint of " + amount_str(m.amount) + " to " + short_id(m.to) +
                      " for job '" + m.job_id + "' round " + std::to_string(m.round) + ", found a " +
                      std::string(to_string(tx.type())) + " transaction");
  }
  // Work on a copy of the issuer's account so a failed rule leaves the state unchanged.
  AccountState issuer = accounts_.count(tx.issuer) ? accounts_.at(tx.issuer) : AccountState{};
  if (tx.type() == TxType::kRegister) {
    if (tx.nonce != 0) return rule_error("registration must carry nonce 0, has " + std::to_string(tx.nonce));
    if (issuer.registered) return rule_error("worker " + short_id(tx.issuer) + " is already registered");
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
  const bool by_authority = tx.issuer == authority_;
  auto require_authority = [&]() -> Status {
    if (!by_authority) {
      return rule_error(std::string(to_string(tx.type())) + " issued by " + short_id(tx.issuer) +
                        ", which is not the minting authority " + short_id(authority_));
    }
    return ok_status();
  };
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
      jobs_[b.job_id] = JobState{b, tx.issuer, {}, std::nullopt};
      commit_issuer();
      return ok_status();
    }
    case TxType::kRoundResult: {
      FL_RETURN_IF_ERROR(require_authority());
      const auto& b = std::get<RoundResultBody>(tx.body);
      auto job = jobs_.find(b.job_id);
      if (job == jobs_.end()) return rule_error("round result for job '" + b.job_id + "', which was never opened");
      if (job->second.rounds.count(b.round)) {
        return rule_error("job '" + b.job_id + "' round " + std::to_string(b.round) + " is already recorded");
      }
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
      const auto amounts = split_reward(job->second.job.reward_per_round, b.accepted);
      std::map<common::PublicKey, std::uint64_t> by_key;
      for (std::size_t i = 0; i < amounts.size(); ++i) {
        if (amounts[i] > 0) by_key[b.accepted[i].worker] = amounts[i];
      }
      job->second.rounds.insert(b.round);
      job->second.last_round = RecordedRound{b.round, b.model_digest, height_};
      if (privacy) {
        job->second.privacy_spent = std::move(privacy->composition);
        job->second.epsilon_spent = privacy->epsilon;
      }
      for (const auto& [worker, amount] : by_key) pending_mints_.push_back({b.job_id, b.round, worker, amount});
      commit_issuer();
      for (const auto& a : b.accepted) ++accounts_[a.worker].rounds_contributed;
      for (const auto& r : b.rejected) ++accounts_[r.worker].rejections;
      return ok_status();
    }
    case TxType::kRewardMint: {
      FL_RETURN_IF_ERROR(require_authority());
      const auto& b = std::get<RewardMintBody>(tx.body);
      if (pending_mints_.empty()) {
        return rule_error("reward mint of " + amount_str(b.amount) + " to " + short_id(b.to) +
                          " is not called for by a round result");
      }
      const auto& e = pending_mints_.front();
      if (b.job_id != e.job_id || b.round != e.round || b.to != e.to || b.amount != e.amount) {
        return rule_error("reward mint of " + amount_str(b.amount) + " to " + short_id(b.to) + " for job '" +
                          b.job_id + "' round " + std::to_string(b.round) + " differs from the split, which pays " +
                          amount_str(e.amount) + " to " + short_id(e.to));
      }
      if (add_overflows(minted_, b.amount)) return rule_error("reward mint overflows the token supply");
      commit_issuer();
      auto& to = accounts_[b.to];
      to.balance += b.amount;
      to.earned += b.amount;
      minted_ += b.amount;
      pending_mints_.pop_front();
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
      FL_RETURN_IF_ERROR(require_authority());
      const auto& b = std::get<SlashBody>(tx.body);
      if (b.amount == 0) return rule_error("slash of 0 tokens");
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
      return ok_status();
    }
  }
  return make_error(ErrorCode::kInternal, "unhandled transaction type");
}

Status LedgerState::check_block_contents(const BlockHeader& header, std::span<const Transaction> txs) const {
  if (header.proposer == authority_) return ok_status();
  for (std::size_t i = 0; i < txs.size(); ++i) {
    const auto type = txs[i].type();
    const bool holder_type = type == TxType::kTransfer || type == TxType::kStake || type == TxType::kUnstake;
    if (!holder_type || txs[i].issuer != header.proposer) {
      return rule_error("tx " + std::to_string(i) + ": a block proposed by " + short_id(header.proposer) +
                        " (not the authority) may hold only its own transfers, stakes and unstakes, not a " +
                        std::string(to_string(type)) + " by " + short_id(txs[i].issuer));
    }
  }
  return ok_status();
}

Status LedgerState::check_block_end() const {
  if (!pending_mints_.empty()) {
    const auto& m = pending_mints_.front();
    return rule_error("block ends without the reward mint of " + amount_str(m.amount) + " to " + short_id(m.to) +
                      " for job '" + m.job_id + "' round " + std::to_string(m.round));
  }
  const Uint128 held = static_cast<Uint128>(total_balances()) + total_stakes();
  const Uint128 supply = minted_ >= slashed_ ? minted_ - slashed_ : 0;
  if (held != supply || minted_ < slashed_) {
    return make_error(ErrorCode::kCorrupt,
                      "supply invariant broken: balances " + amount_str(total_balances()) + " + stakes " +
                          amount_str(total_stakes()) + " != minted " + amount_str(minted_) + " - slashed " +
                          amount_str(slashed_));
  }
  return ok_status();
}

}  // namespace fl::ledger
