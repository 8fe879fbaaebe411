// Ledger transactions: typed, canonically encoded, signed by their issuer.
//
// Canonical encoding (the "body"; integers little-endian fixed width, strings and lists with
// a u64 length/count prefix, keys and digests as their raw 32 bytes, scores as IEEE-754 f64):
//   "FLTX" u8 version, u8 type, issuer[32], u64 nonce, u64 timestamp_ms, then per type
//   register     text dataset_fingerprint
//   open-job     text job_id, text model, text rule, [version 3: f64 epsilon, f64 delta]
//                u64 reward_per_round
//   round-result text job_id, u64 round, model_digest[32], text rule, [version 2: text scorer]
//                [version 3: text scorer, f64 clip_norm, f64 noise_multiplier, f64 sample_rate,
//                f64 cumulative_epsilon] u64 n, n x (worker[32], update_digest[32], f64 score, u64 num_samples),
//                u64 m, m x (worker[32], update_digest[32], text reason)
//   reward-mint  text job_id, u64 round, to[32], u64 amount
//   transfer     to[32], u64 amount
//   stake        u64 amount
//   unstake      u64 amount
//   slash        account[32], text reason, u64 amount
//   escrow       text job_id, u64 amount
//   payout       text job_id, u64 round, to[32], u64 amount
//   refund       text job_id, u64 amount
//   issue        to[32], u64 amount
//   consent      text job_id, terms_digest[32]
//   consortium   u64 epoch, u64 quorum, then members, witnesses and minters each as u64 n, n x
//                key[32], then u64 m, m x (member[32], signature[64]) approvals (consortium.hpp)
// Versions 1 to 3 are what earlier ledgers hold and stay valid byte for byte: version 2 is a
// round result that names its scorer, version 3 an open-job with a privacy budget or a round
// result with its DP parameters.
// Version 4 (any type): after the timestamp, u8 k extensions, each u8 tag (strictly
// increasing) and text payload, then the version-1 body. Tags: 1 scorer (text), 2 privacy (an
// open-job's f64 epsilon, f64 delta; a round result's four f64 as in version 3), 3 validation
// (f64 loss_before, f64 loss_after), 4 equivocation evidence (two update claims, each u32
// version, text job_id, u64 round, worker[32], header_digest[32], payload_digest[32],
// signature[64]), 5 score reasons (u64 n = the accepted count, n x text), 6 an open-job's
// terms (common::terms_text(), canonical JSON), 7 a round result's terms digest[32]. An encoder writes the lowest version that can hold the transaction, and a
// decoder refuses any other, so every transaction has one encoding (and one hash).
// The amount, where a type has one, is always the last 8 bytes.
// Signed digest: BLAKE2b-256(body), except register, whose signature is the worker's over
// fl::common::registration_digest(issuer, dataset_fingerprint, timestamp_ms), and consent,
// whose signature is the worker's over fl::common::consent_digest(issuer, job_id, terms_digest,
// timestamp_ms) (nonce 0 for both: the worker signs them before the coordinator writes them).
// Transaction hash (the Merkle leaf and the id): BLAKE2b-256(body || signature).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/job_terms.hpp"
#include "fl/common/wire.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/consortium.hpp"

namespace fl::ledger {

enum class TxType : std::uint8_t {
  kRegister = 1,
  kOpenJob = 2,
  kRoundResult = 3,
  kRewardMint = 4,
  kTransfer = 5,
  kStake = 6,
  kUnstake = 7,
  kSlash = 8,
  kEscrow = 9,   // a researcher's bounty for a job, moved from its balance into the job
  kPayout = 10,  // a reward paid out of a job's escrow
  kRefund = 11,  // the unspent escrow back to the researcher; the job is then closed
  kIssue = 12,   // protocol emission by the minting authority (e.g. to fund researchers)
  kConsent = 13,  // a worker's signed acceptance of a job's terms, given at registration
  kConsortium = 14,  // the federation's members, witnesses, quorum and minters (consortium.hpp)
};
std::string_view to_string(TxType type);

struct RegisterBody {
  std::string dataset_fingerprint;
};
// A job's differential-privacy target: its rounds together may spend at most (epsilon, delta).
struct PrivacyBudget {
  double epsilon = 0;  // > 0, finite
  double delta = 0;    // in (0, 1)
  bool operator==(const PrivacyBudget&) const = default;
};
struct OpenJobBody {
  std::string job_id, model, rule;
  std::uint64_t reward_per_round = 0;
  std::optional<PrivacyBudget> privacy_budget{};  // set: a DP job (encoding version 3)
  // Set: the researcher's terms for the job (encoding version 4). Every round is then checked
  // against them, and every paid worker must have consented to them.
  std::optional<common::JobTerms> terms{};
};
// A DP round's parameters as the ledger's rules re-account them: the clip norm C, the noise
// multiplier sigma (noise std sigma * C on the sum), the share q of workers sampled, and the
// job's cumulative epsilon after this round at the job's delta (fl::common::RdpComposition).
struct RoundPrivacy {
  double clip_norm = 0;
  double noise_multiplier = 0;
  double sample_rate = 0;
  double epsilon = 0;
};
struct RoundValidation {
  double loss_before = 0;
  double loss_after = 0;
  bool improved() const { return loss_after < loss_before; }
  bool operator==(const RoundValidation&) const = default;
};
struct AcceptedEntry {
  common::PublicKey worker{};
  common::Digest update_digest{};
  double score = 0.0;
  std::uint64_t num_samples = 0;
};
// The round record's entry for one accepted update, from the update's signed header: a new
// field on an update reaches the ledger through this one function (beside the entry's encoding
// in transaction.cpp), so it touches wire.hpp/.cpp and transaction.hpp/.cpp only.
AcceptedEntry accepted_entry(const common::UpdateHeader& header, const common::Digest& update_digest, double score);
struct RejectedEntry {
  common::PublicKey worker{};
  common::Digest update_digest{};
  std::string reason;
};
struct RoundResultBody {
  std::string job_id;
  std::uint64_t round = 0;
  common::Digest model_digest{};
  std::string rule;
  std::string scorer;  // contribution scorer's name, e.g. "cosine" (empty: not recorded)
  std::vector<AcceptedEntry> accepted;
  std::vector<RejectedEntry> rejected;
  std::optional<RoundPrivacy> privacy{};  // set: a DP round (encoding version 3)
  // Set: the validation loss of the previous and the new global model on the coordinator's
  // validation set (encoding version 4). A round that does not lower it pays at most a tenth
  // of its share (rewards.hpp).
  std::optional<RoundValidation> validation{};
  // Empty, or one per accepted entry: "" or why the coordinator's screening made it earn
  // nothing ("replays the global change of round 3", ...); such an entry's score must be <= 0.
  std::vector<std::string> score_reasons{};  // recorded (version 4) when any is non-empty
  // Set: the digest of the terms the round ran under (version 4); required when the job has
  // terms, and must be theirs.
  std::optional<common::Digest> terms_digest{};
};
struct RewardMintBody {
  std::string job_id;
  std::uint64_t round = 0;
  common::PublicKey to{};
  std::uint64_t amount = 0;
};
struct TransferBody {
  common::PublicKey to{};
  std::uint64_t amount = 0;
};
struct StakeBody {
  std::uint64_t amount = 0;
};
struct UnstakeBody {
  std::uint64_t amount = 0;
};
// Two signed updates by one key for one job and round that differ: proof of equivocation.
struct EquivocationEvidence {
  common::UpdateClaim first, second;
  bool operator==(const EquivocationEvidence&) const = default;
};
// Why `evidence` does not prove that `account` equivocated, or nullopt when it does.
std::optional<std::string> evidence_problem(const EquivocationEvidence& evidence,
                                            const common::PublicKey& account);
struct SlashBody {
  common::PublicKey account{};
  std::string reason;
  std::uint64_t amount = 0;
  std::optional<EquivocationEvidence> evidence{};  // set: encoding version 4
};
struct EscrowBody {
  std::string job_id;
  std::uint64_t amount = 0;
};
struct PayoutBody {
  std::string job_id;
  std::uint64_t round = 0;
  common::PublicKey to{};
  std::uint64_t amount = 0;
};
struct RefundBody {
  std::string job_id;
  std::uint64_t amount = 0;
};
struct IssueBody {
  common::PublicKey to{};
  std::uint64_t amount = 0;
};
struct ConsentBody {
  std::string job_id;
  common::Digest terms_digest{};
};
// In the genesis block (epoch 0, no approvals): the consortium the chain starts with. Later:
// its replacement (epoch + 1), approved by a quorum of the current members.
struct ConsortiumBody {
  Consortium consortium;
  std::vector<ConsortiumApproval> approvals;
};

// Alternatives in TxType order (index + 1 == type).
using TxBody = std::variant<RegisterBody, OpenJobBody, RoundResultBody, RewardMintBody, TransferBody,
                            StakeBody, UnstakeBody, SlashBody, EscrowBody, PayoutBody, RefundBody,
                            IssueBody, ConsentBody, ConsortiumBody>;

struct Transaction {
  common::PublicKey issuer{};
  std::uint64_t nonce = 0;
  std::uint64_t timestamp_ms = 0;
  TxBody body;
  common::Signature signature{};

  TxType type() const { return static_cast<TxType>(body.index() + 1); }
  // The amount moved, minted, staked or slashed; nullopt for types without one.
  std::optional<std::uint64_t> amount() const;
};

std::vector<std::uint8_t> encode(const Transaction& tx);  // the canonical body (no signature)
// Parses a canonical body; rejects unknown types, truncation and trailing bytes.
Result<Transaction> decode(std::span<const std::uint8_t> body, const common::Signature& signature);

common::Digest signing_digest(const Transaction& tx);
common::Digest tx_hash(std::span<const std::uint8_t> body, const common::Signature& signature);
common::Digest tx_hash(const Transaction& tx);
bool signature_valid(const Transaction& tx);
// Signs with `key` (which must be tx.issuer's); not for register, which the worker signs.
void sign_transaction(Transaction& tx, const common::KeyPair& key);

// Builders that fill issuer, nonce, timestamp and signature.
Transaction make_signed(const common::KeyPair& issuer, std::uint64_t nonce, std::uint64_t timestamp_ms,
                        TxBody body);

// Accounts a transaction credits, debits or names (issuer first), for history queries.
std::vector<common::PublicKey> accounts_named(const Transaction& tx);

std::uint64_t now_ms();

}  // namespace fl::ledger
