// Read-only questions admins ask of a ledger: accounts, rounds per job, a transaction and its
// Merkle proof, an account's history, and which round produced a model. Everything is derived
// from one consistent snapshot of the stored chain; nothing trusts the coordinator's word.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/state.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

struct StoredTx {
  std::uint64_t height = 0;
  std::uint64_t index = 0;
  common::Digest hash{};
  Transaction tx;
};

struct Chain {
  std::vector<Block> blocks;
  std::vector<StoredTx> txs;  // in (height, index) order
  LedgerState state;          // after replaying every transaction
};

// Loads a read-only snapshot and replays it (rules, not signatures: run verify_ledger for those).
Result<Chain> load_chain(const std::filesystem::path& db);

// A transaction by full hash or a unique hex prefix (at least 8 digits).
Result<const StoredTx*> find_tx(const Chain& chain, std::string_view id);

struct MerkleProof {
  common::Digest tx_hash{};
  std::uint64_t leaf_index = 0, tree_size = 0;
  std::vector<common::Digest> path;
  Block block;
};
Result<MerkleProof> proof_for(const Chain& chain, const StoredTx& tx);
// Offline: the header hashes to block.hash, its proposer signed it, the path leads to its root;
// optionally the block hash and proposer must equal trusted values.
Status check_proof(const MerkleProof& proof, const std::optional<common::Digest>& trusted_block_hash,
                   const std::optional<common::PublicKey>& trusted_proposer);

struct UpdateOutcome {
  common::PublicKey worker{};
  common::Digest update_digest{};
  bool accepted = false;
  double score = 0.0;
  std::uint64_t num_samples = 0;
  std::uint64_t reward = 0;  // re-derived from the scores and the job's reward per round
  std::string reason;        // rejected only
};
struct RoundSummary {
  std::string job_id;
  std::uint64_t round = 0;
  std::uint64_t height = 0;
  common::Digest tx_hash{};
  std::uint64_t timestamp_ms = 0;
  common::Digest model_digest{};
  std::string rule;
  std::string scorer;  // empty for rounds recorded before the scorer was
  std::uint64_t minted = 0;
  std::vector<UpdateOutcome> updates;  // accepted first, then rejected
};
std::vector<RoundSummary> rounds_of(const Chain& chain, const std::string& job_id);  // all jobs if empty
std::vector<RoundSummary> rounds_with_model(const Chain& chain, const common::Digest& model_digest);

// The model digest `trace` looks up: a 64-digit hex digest as is; a FedLedger model file (read
// and checked by common::load_model_file) by its parameters; any other file by all its bytes.
Result<common::Digest> model_digest_of(const std::string& file_or_hex);

// An account named on the command line: a key file or public-key file (an existing path), a
// full 64-digit public key, or a unique prefix of 8+ hex digits of an account on the ledger.
Result<common::PublicKey> resolve_account(const Chain& chain, std::string_view id);

std::vector<const StoredTx*> history_of(const Chain& chain, const common::PublicKey& account);
// One line describing a transaction, e.g. "transfer 12 to 3fa1c09e".
std::string describe(const Transaction& tx);

}  // namespace fl::ledger
