// The FedLedger ledger: append-only, hash-chained blocks of signed transactions in SQLite
// (WAL). The coordinator writes one block per round with record_round(); account holders add
// transfers and stakes with submit(); anyone re-checks the whole record with verify_ledger().
// Each block is written in one SQLite transaction, so a killed writer leaves all of a block
// or none of it, and readers in other processes see whole blocks only.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/ledger/block_store.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/state.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

struct RegistrationRecord {
  common::PublicKey worker{};
  std::string dataset_fingerprint;
  std::uint64_t timestamp_ms = 0;
  common::Signature worker_signature{};  // over common::registration_digest(...)
  // The worker's consent to the job's terms (zero digest: none), signed at registration over
  // common::consent_digest(worker, job_id, terms_digest, timestamp_ms).
  common::Digest terms_digest{};
  common::Signature consent_signature{};
};

struct JobRecord {
  std::string job_id;
  common::PublicKey researcher{};
  std::string model;
  std::string rule;
  std::uint64_t reward_per_round = 0;
  std::optional<PrivacyBudget> privacy_budget{};  // a DP job's (epsilon, delta) target
  // > 0: the researcher escrows this much when the job opens, and rounds are paid out of it
  // (never minted); 0: the authority mints each round's reward.
  std::uint64_t bounty = 0;
  // Set: the researcher's terms, recorded with the job; each round then names their digest and
  // pays only workers whose consent to them is recorded (their registrations carry it).
  std::optional<common::JobTerms> terms{};
};

// The coordinator describes a round exactly as the round-result transaction records it.
using AcceptedUpdate = AcceptedEntry;
using RejectedUpdate = RejectedEntry;
using RoundRecord = RoundResultBody;  // model_digest = common::digest_of(global parameters);
                                      // rule with its parameters, e.g. "krum(f=2)"

// One receipt type end to end: the wire's common::Receipt (what the worker checks, without the
// ledger: common::verify_inclusion(tx_hash, leaf_index, tree_size, proof, merkle_root)) and the
// worker it is for. Send it as is: `ack.receipt = receipt;` (a common::Receipt).
struct RoundReceipt : common::Receipt {
  common::PublicKey worker{};
};

struct AppendedBlock {
  Block block;
  std::vector<Transaction> txs;
  std::vector<common::Digest> tx_hashes;
};

class Ledger {
 public:
  // Opens (creating if missing) and replays the chain into memory; fails if the stored chain
  // breaks the ledger's rules (run verify_ledger to find out where).
  static Result<std::unique_ptr<Ledger>> open(const std::filesystem::path& db);
  // The same over any block store (the SQLite file above is open_sqlite_block_store(db, kReadWrite)).
  static Result<std::unique_ptr<Ledger>> open(std::unique_ptr<BlockStore> store);
  ~Ledger();
  Ledger(Ledger&&) noexcept;
  Ledger& operator=(Ledger&&) noexcept;
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // On an empty ledger, writes the genesis block, proposed by `member`: with `consortium`
  // (which must name `member` a member), one consortium transaction; without, none, so
  // `member` alone is the consortium (the authority). On an existing ledger, checks that
  // `member` is a member of its consortium now and that `consortium`, when given, is the one
  // its genesis block named; an error names what differs.
  Status initialize(const common::KeyPair& member, const std::optional<Consortium>& consortium = std::nullopt);
  bool initialized() const;
  common::PublicKey authority() const;
  std::uint64_t height() const;  // height of the newest block (0: genesis, or empty)
  std::uint64_t block_count() const;
  common::Digest head_hash() const;
  common::Digest genesis_hash() const;  // the chain's identity (zero when empty)
  // The headers of blocks from..to (inclusive, to <= height()), read from the store.
  Result<std::vector<BlockHeader>> headers(std::uint64_t from, std::uint64_t to) const;
  const LedgerState& state() const;
  std::uint64_t next_nonce(const common::PublicKey& account) const;
  // The newest round recorded for `job_id` (its number, global model digest and block), as of
  // the last open or append; nullopt if the job has no round on the ledger. A restarted
  // coordinator resumes after it.
  std::optional<RecordedRound> last_round(std::string_view job_id) const;

  // Appends ONE block signed by `authority` (a member of the consortium; a minter unless the
  // job pays out of an escrow): the registrations not yet on the ledger (a key
  // registered twice is skipped), the open-job tx if the job is new (signed by `researcher`)
  // and its escrow if it has a bounty, the consents to the job's terms not yet recorded, the
  // round-result tx (naming the terms' digest) and one reward mint (or escrow payout) per
  // rewarded worker, as the ledger's rules (state.hpp, rewards.hpp) call for. One receipt per
  // accepted update, in round.accepted order (reward 0 where the score earned nothing).
  Result<std::vector<RoundReceipt>> record_round(const common::KeyPair& authority,
                                                 const common::KeyPair& researcher, const JobRecord& job,
                                                 std::span<const RegistrationRecord> registrations,
                                                 const RoundRecord& round);

  // An account holder's transfer, stake or unstake: signed by `holder` with its next nonce
  // and written in a block the holder proposes.
  Result<AppendedBlock> submit(const common::KeyPair& holder, TxBody body);

  // Appends one block proposed by `proposer` holding already-signed transactions; every
  // signature and rule is checked first. Nothing is written if any fails.
  Result<AppendedBlock> append_block(const common::KeyPair& proposer, std::vector<Transaction> txs);

 private:
  struct Impl;
  explicit Ledger(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Where verification failed: the first bad block (and transaction, if one) and what is wrong.
struct VerifyFailure {
  std::uint64_t height = 0;
  std::optional<std::uint64_t> tx_index;
  std::optional<common::Digest> tx_hash;
  std::string problem;
  std::string to_string() const;  // "block 7 tx 2 (3fa1c09e...): signature ... does not verify"
};

struct VerifyReport {
  bool ok = false;
  std::uint64_t blocks = 0;        // blocks checked
  std::uint64_t transactions = 0;  // transactions checked
  std::uint64_t signatures_checked = 0;
  common::PublicKey authority{};  // the genesis block's proposer
  Consortium consortium{};         // the consortium at the head
  Consortium founding_consortium{};
  common::Digest head_hash{};
  common::Digest genesis_hash{};  // the chain's identity (block 0), when it decodes
  std::uint64_t minted = 0, slashed = 0, total_balances = 0, total_stakes = 0, total_escrow = 0;
  std::optional<VerifyFailure> failure;
};

// Re-checks the whole chain read-only: every hash link, Merkle root, block and transaction
// signature, nonce and rule, and replays all balances against the supply invariant after every
// block. An Error only when the database cannot be read at all; a broken chain is a report
// with ok == false and the failure.
Result<VerifyReport> verify_ledger(const std::filesystem::path& db);
// The same checks over any block store (e.g. the etcd-replicated one), read at one snapshot.
Result<VerifyReport> verify_store(const BlockStore& store);

}  // namespace fl::ledger
