#include "fl/ledger/queries.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <iterator>

#include "fl/common/merkle.hpp"
#include "fl/common/model_file.hpp"
#include "fl/ledger/rewards.hpp"
#include "replay.hpp"

namespace fl::ledger {

using common::short_id;

Result<Chain> load_chain(const std::filesystem::path& path) {
  FL_ASSIGN_OR_RETURN(auto store, open_sqlite_block_store(path, StoreAccess::kReadOnly));
  FL_ASSIGN_OR_RETURN(auto records, store->read_from(0));
  if (records.blocks.empty()) {
    return make_error(ErrorCode::kNotFound, path.string() + " holds no blocks yet (not even the genesis block); "
                                            "if it is a copy of a ledger, copy its -wal file with it");
  }
  Chain chain;
  ReplayCursor cursor;
  auto failure = replay_chain(cursor, records, ReplayOptions{},
                              [&chain](const Block& block, std::vector<Transaction>& txs,
                                       std::span<const common::Digest> hashes) {
                                for (std::size_t i = 0; i < txs.size(); ++i) {
                                  chain.txs.push_back({block.header.height, i, hashes[i], std::move(txs[i])});
                                }
                                chain.blocks.push_back(block);
                              });
  if (failure) return failure->to_error(path.string(), "run `fl-ledger verify`");
  chain.state = std::move(cursor.state);
  return chain;
}

Result<const StoredTx*> find_tx(const Chain& chain, std::string_view id) {
  std::string want(id);
  for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (want.size() < 8 || want.size() > 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument, "transaction id '" + std::string(id) +
                                                       "' is not 8 to 64 hex digits of a transaction hash");
  }
  const StoredTx* found = nullptr;
  for (const auto& t : chain.txs) {
    if (common::to_hex(t.hash).compare(0, want.size(), want) == 0) {
      if (found) return make_error(ErrorCode::kInvalidArgument, "transaction id '" + want + "' is ambiguous");
      found = &t;
    }
  }
  if (!found) return make_error(ErrorCode::kNotFound, "no transaction with hash " + want + "...");
  return found;
}

Result<MerkleProof> proof_for(const Chain& chain, const StoredTx& tx) {
  if (tx.height >= chain.blocks.size()) return make_error(ErrorCode::kNotFound, "block of the transaction is missing");
  std::vector<common::Digest> leaves;
  for (const auto& t : chain.txs) {
    if (t.height == tx.height) leaves.push_back(t.hash);
  }
  MerkleProof p;
  p.tx_hash = tx.hash;
  p.leaf_index = tx.index;
  p.tree_size = leaves.size();
  p.path = common::inclusion_proof(leaves, tx.index);
  p.block = chain.blocks[tx.height];
  return p;
}

Status check_proof(const MerkleProof& p, const std::optional<common::Digest>& trusted_block_hash,
                   const std::optional<common::PublicKey>& trusted_proposer) {
  const std::string at = "block " + std::to_string(p.block.header.height);
  if (!block_hash_valid(p.block)) return make_error(ErrorCode::kCorrupt, at + ": header does not hash to the block hash");
  if (!block_signature_valid(p.block)) {
    return make_error(ErrorCode::kBadSignature, at + ": proposer signature does not verify");
  }
  if (trusted_block_hash && *trusted_block_hash != p.block.hash) {
    return make_error(ErrorCode::kCorrupt, at + ": hash " + common::to_hex(p.block.hash) + " is not the trusted " +
                                               common::to_hex(*trusted_block_hash));
  }
  if (trusted_proposer && *trusted_proposer != p.block.header.proposer) {
    return make_error(ErrorCode::kBadSignature,
                      at + ": proposed by " + short_id(p.block.header.proposer) + ", not " + short_id(*trusted_proposer));
  }
  if (p.tree_size != p.block.header.tx_count) {
    return make_error(ErrorCode::kCorrupt, at + ": proof is for " + std::to_string(p.tree_size) +
                                               " transactions, the header says " + std::to_string(p.block.header.tx_count));
  }
  if (!common::verify_inclusion(p.tx_hash, p.leaf_index, p.tree_size, p.path, p.block.header.merkle_root)) {
    return make_error(ErrorCode::kCorrupt, at + ": Merkle path does not lead from transaction " +
                                               common::to_hex(p.tx_hash) + " to the block's root");
  }
  return ok_status();
}

namespace {

RoundSummary summarize(const Chain& chain, const StoredTx& t, const RoundResultBody& b) {
  RoundSummary s{b.job_id, b.round, t.height, t.hash, t.tx.timestamp_ms, b.model_digest, b.rule, b.scorer, 0, {}};
  const auto job = chain.state.jobs().find(b.job_id);
  std::uint64_t budget = 0;
  if (job != chain.state.jobs().end()) {
    const auto paid = job->second.round_budget.find(b.round);
    budget = paid == job->second.round_budget.end() ? 0 : paid->second;
  }
  const auto amounts = split_reward(budget, b.accepted);
  for (std::size_t i = 0; i < b.accepted.size(); ++i) {
    const auto& a = b.accepted[i];
    s.updates.push_back({a.worker, a.update_digest, true, a.score, a.num_samples, amounts[i], ""});
    s.minted += amounts[i];
  }
  for (const auto& r : b.rejected) s.updates.push_back({r.worker, r.update_digest, false, 0.0, 0, 0, r.reason});
  return s;
}

}  // namespace

std::vector<RoundSummary> rounds_of(const Chain& chain, const std::string& job_id) {
  std::vector<RoundSummary> out;
  for (const auto& t : chain.txs) {
    const auto* b = std::get_if<RoundResultBody>(&t.tx.body);
    if (b && (job_id.empty() || b->job_id == job_id)) out.push_back(summarize(chain, t, *b));
  }
  return out;
}

std::vector<RoundSummary> rounds_with_model(const Chain& chain, const common::Digest& model_digest) {
  std::vector<RoundSummary> out;
  for (const auto& t : chain.txs) {
    const auto* b = std::get_if<RoundResultBody>(&t.tx.body);
    if (b && b->model_digest == model_digest) out.push_back(summarize(chain, t, *b));
  }
  return out;
}

Result<common::Digest> model_digest_of(const std::string& file_or_hex) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(file_or_hex, ec)) {
    if (file_or_hex.size() == 64 && !std::filesystem::exists(file_or_hex, ec)) {
      return common::digest_from_hex(file_or_hex);
    }
    return make_error(ErrorCode::kNotFound, "'" + file_or_hex + "' is neither a model file nor a 64-digit hex digest");
  }
  std::ifstream in(file_or_hex, std::ios::binary);
  std::vector<std::uint8_t> bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) return make_error(ErrorCode::kIo, "cannot read " + file_or_hex);
  if (bytes.size() >= sizeof common::kModelFileMagic &&
      std::equal(common::kModelFileMagic, common::kModelFileMagic + sizeof common::kModelFileMagic, bytes.begin())) {
    FL_ASSIGN_OR_RETURN(auto model, common::load_model_file(file_or_hex));
    return model.header.digest;  // load_model_file checked it against the parameters
  }
  return common::blake2b_256(bytes);
}

Result<common::PublicKey> resolve_account(const Chain& chain, std::string_view id) {
  std::error_code ec;
  const std::filesystem::path path(id);
  if (std::filesystem::is_regular_file(path, ec)) return common::load_public_key_file(path);
  std::string want(id);
  for (auto& c : want) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (want.size() < 8 || want.size() > 64 || want.find_first_not_of("0123456789abcdef") != std::string::npos) {
    return make_error(ErrorCode::kInvalidArgument,
                      "account '" + std::string(id) + "' is neither a key file nor 8 to 64 hex digits of a public key");
  }
  if (want.size() == 64) return common::public_key_from_hex(want);
  std::optional<common::PublicKey> found;
  for (const auto& [key, account] : chain.state.accounts()) {
    if (common::to_hex(key).compare(0, want.size(), want) != 0) continue;
    if (found) {
      return make_error(ErrorCode::kInvalidArgument, "account prefix '" + want + "' is ambiguous: it matches " +
                                                         common::short_id(*found) + " and " + common::short_id(key) +
                                                         "; give more digits");
    }
    found = key;
  }
  if (!found) return make_error(ErrorCode::kNotFound, "no account on the ledger starts with " + want);
  return *found;
}

std::vector<const StoredTx*> history_of(const Chain& chain, const common::PublicKey& account) {
  std::vector<const StoredTx*> out;
  for (const auto& t : chain.txs) {
    const auto named = accounts_named(t.tx);
    if (std::find(named.begin(), named.end(), account) != named.end()) out.push_back(&t);
  }
  return out;
}

std::string describe(const Transaction& tx) {
  return std::visit(
      [&tx](const auto& b) -> std::string {
        using T = std::decay_t<decltype(b)>;
        const std::string who = short_id(tx.issuer);
        if constexpr (std::is_same_v<T, RegisterBody>) {
          return "register " + who + " dataset '" + b.dataset_fingerprint + "'";
        } else if constexpr (std::is_same_v<T, OpenJobBody>) {
          return "open job '" + b.job_id + "' model " + b.model + " rule " + b.rule + " reward/round " +
                 std::to_string(b.reward_per_round) + " by " + who +
                 (b.terms ? " under terms " + common::to_hex(common::terms_digest(*b.terms)).substr(0, 16) : "");
        } else if constexpr (std::is_same_v<T, ConsentBody>) {
          return "consent of " + who + " to the terms " + common::to_hex(b.terms_digest).substr(0, 16) + " of '" +
                 b.job_id + "'";
        } else if constexpr (std::is_same_v<T, RoundResultBody>) {
          return "round " + std::to_string(b.round) + " of '" + b.job_id + "': " + std::to_string(b.accepted.size()) +
                 " accepted, " + std::to_string(b.rejected.size()) + " rejected, model " +
                 common::to_hex(b.model_digest).substr(0, 16);
        } else if constexpr (std::is_same_v<T, RewardMintBody>) {
          return "mint " + std::to_string(b.amount) + " to " + short_id(b.to) + " for '" + b.job_id + "' round " +
                 std::to_string(b.round);
        } else if constexpr (std::is_same_v<T, PayoutBody>) {
          return "pay " + std::to_string(b.amount) + " from the escrow of '" + b.job_id + "' to " + short_id(b.to) +
                 " for round " + std::to_string(b.round);
        } else if constexpr (std::is_same_v<T, EscrowBody>) {
          return "escrow " + std::to_string(b.amount) + " for '" + b.job_id + "' by " + who;
        } else if constexpr (std::is_same_v<T, RefundBody>) {
          return "refund " + std::to_string(b.amount) + " of the escrow of '" + b.job_id + "' (job closed) by " + who;
        } else if constexpr (std::is_same_v<T, IssueBody>) {
          return "issue " + std::to_string(b.amount) + " to " + short_id(b.to);
        } else if constexpr (std::is_same_v<T, TransferBody>) {
          return "transfer " + std::to_string(b.amount) + " from " + who + " to " + short_id(b.to);
        } else if constexpr (std::is_same_v<T, StakeBody>) {
          return "stake " + std::to_string(b.amount) + " by " + who;
        } else if constexpr (std::is_same_v<T, UnstakeBody>) {
          return "unstake " + std::to_string(b.amount) + " by " + who;
        } else if constexpr (std::is_same_v<T, ConsortiumBody>) {
          return "consortium " + describe_consortium(b.consortium) + " by " + who +
                 (b.approvals.empty() ? "" : ", approved by " + std::to_string(b.approvals.size()) + " members");
        } else {
          return "slash " + std::to_string(b.amount) + " of " + short_id(b.account) + ": " + b.reason +
                 (b.evidence ? " (equivocation evidence for round " + std::to_string(b.evidence->first.round) + ")" : "");
        }
      },
      tx.body);
}

}  // namespace fl::ledger
