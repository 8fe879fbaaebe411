// Derived ledger state: balances, stakes, nonces, registrations and jobs, rebuilt by replaying
// transactions. apply() is the single statement of the ledger's rules; the writer runs it
// before committing a block and `verify` runs it again on what was committed.
// Supply invariant (after every block): sum(balance) + sum(stake) + sum(escrow) == minted -
// slashed, where minted counts reward mints and issues (escrow payouts move tokens, they do not
// create them).
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>

#include "fl/common/crypto.hpp"
#include "fl/common/rdp_composition.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/consortium.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

struct AccountState {
  std::uint64_t balance = 0;
  std::uint64_t stake = 0;
  std::uint64_t next_nonce = 1;  // nonce the account's next transaction must carry
  bool registered = false;
  std::string dataset_fingerprint;
  std::uint64_t rounds_contributed = 0;  // accepted updates
  std::uint64_t rejections = 0;          // rejected updates
  std::uint64_t earned = 0;              // reward tokens minted to it
  std::uint64_t slashed = 0;
};

// The newest round result recorded for a job: where a restarted coordinator resumes from.
struct RecordedRound {
  std::uint64_t round = 0;
  common::Digest model_digest{};
  std::uint64_t height = 0;  // block holding the round-result transaction
};

struct JobState {
  OpenJobBody job;
  common::PublicKey researcher{};
  std::set<std::uint64_t> rounds;
  std::optional<RecordedRound> last_round;
  // A DP job (job.privacy_budget set): the RDP of its recorded rounds, re-accounted from their
  // recorded (q, sigma), and the epsilon they spend at the job's delta.
  common::RdpComposition privacy_spent{};
  double epsilon_spent = 0;
  // Funding: a job with an escrow transaction pays its rounds out of the escrow (never more
  // than is left); otherwise the authority mints them. A refund closes the job.
  std::uint64_t escrow = 0;
  bool escrow_funded = false;
  bool closed = false;
  std::map<std::uint64_t, std::uint64_t> round_budget;  // round -> what it paid in all
  // A job opened with terms (job.terms): their digest, and the workers that consented to them.
  common::Digest terms_digest{};
  std::set<common::PublicKey> consents;
};

// A reward a round result calls for: a mint, or a payout from the job's escrow.
struct ExpectedPayment {
  TxType type;
  std::string job_id;
  std::uint64_t round;
  common::PublicKey to;
  std::uint64_t amount;
};

class LedgerState {
 public:
  LedgerState() = default;
  // The state before the genesis block's transactions: `founder` (the genesis proposer) alone
  // is the consortium until a consortium transaction in the genesis block names it.
  explicit LedgerState(const common::PublicKey& founder)
      : authority_(founder), consortium_(consortium_of_one(founder)), founding_(consortium_) {}

  // The height of the block whose transactions follow (recorded with each round result).
  void begin_block(std::uint64_t height) { height_ = height; }
  // Checks `tx` against the rules (not its signature: see signature_valid) and applies it.
  // On error the state is unchanged.
  Status apply(const Transaction& tx);
  // Block-level rules: the genesis block holds nothing or one consortium transaction by its
  // proposer; a block not proposed by a member of the consortium holds only transfers, stakes,
  // unstakes, escrows and refunds issued by its proposer.
  Status check_block_contents(const BlockHeader& header, std::span<const Transaction> txs) const;
  // After a block: every reward mint a round result called for is present, and the supply
  // invariant holds.
  Status check_block_end() const;

  // The genesis block's proposer (the founder; the one authority of a ledger without a
  // consortium transaction).
  const common::PublicKey& authority() const { return authority_; }
  // The consortium now, and the one the genesis block named (epoch 0).
  const Consortium& consortium() const { return consortium_; }
  const Consortium& founding_consortium() const { return founding_; }
  const std::map<common::PublicKey, AccountState>& accounts() const { return accounts_; }
  const std::map<std::string, JobState>& jobs() const { return jobs_; }
  const AccountState* find(const common::PublicKey& key) const;
  std::uint64_t next_nonce(const common::PublicKey& key) const;
  // The payments the last round result applied calls for, in the order they must follow it.
  const std::deque<ExpectedPayment>& pending_payments() const { return pending_payments_; }
  std::uint64_t minted() const { return minted_; }
  std::uint64_t slashed() const { return slashed_; }
  std::uint64_t total_balances() const;
  std::uint64_t total_stakes() const;
  std::uint64_t total_escrow() const;
  std::uint64_t issued() const { return issued_; }  // the part of minted() that issue txs created

 private:
  std::uint64_t height_ = 0;
  Status apply_body(const Transaction& tx, AccountState& issuer);
  Status apply_round_result(const Transaction& tx, AccountState& issuer);
  Status apply_payment(const Transaction& tx, AccountState& issuer);
  Status apply_escrow(const Transaction& tx, AccountState& issuer);
  Status apply_consortium(const Transaction& tx);

  common::PublicKey authority_{};
  Consortium consortium_{};
  Consortium founding_{};
  std::map<common::PublicKey, AccountState> accounts_;
  std::map<std::string, JobState> jobs_;
  std::deque<ExpectedPayment> pending_payments_;
  // Equivocations already slashed with evidence: (account, job, round). One offence, one slash.
  std::set<std::tuple<common::PublicKey, std::string, std::uint64_t>> slashed_offences_;
  std::uint64_t minted_ = 0;
  std::uint64_t issued_ = 0;
  std::uint64_t slashed_ = 0;
};

}  // namespace fl::ledger
