// Checkpoints of a verified chain, and witnesses' proofs of misbehaviour.
#include "fl/ledger/checkpoint.hpp"

#include "fl/ledger/json.hpp"
#include "replay.hpp"

namespace fl::ledger {

using common::to_hex;
using nlohmann::json;

common::Checkpoint VerifiedChain::checkpoint_at(std::uint64_t height) const {
  const Block& b = blocks.at(height);
  return {blocks.front().hash, height, b.hash, tree_sizes.at(height), b.header.time_ms};
}

common::Checkpoint VerifiedChain::checkpoint() const { return checkpoint_at(blocks.size() - 1); }

Result<VerifiedChain> read_verified_chain(const BlockStore& store) {
  FL_ASSIGN_OR_RETURN(auto records,
                      store.read_from(0));  // one snapshot while others write
  if (records.blocks.empty())
    return make_error(ErrorCode::kNotFound, store.name() + ": the ledger has no genesis block");
  VerifiedChain chain;
  std::uint64_t txs = 0;
  ReplayCursor cursor;
  auto failure = replay_chain(cursor, records, ReplayOptions{.check_integrity = true},
                              [&](const Block& block, std::vector<Transaction>& block_txs,
                                  std::span<const common::Digest>) {
                                txs += block_txs.size();
                                chain.blocks.push_back(block);
                                chain.tree_sizes.push_back(txs);
                              });
  if (failure) return failure->to_error(store.name(), "the chain does not verify");
  return chain;
}

Result<common::Checkpoint> checkpoint_of(const BlockStore& store) {
  FL_ASSIGN_OR_RETURN(auto chain, read_verified_chain(store));
  return chain.checkpoint();
}

Status verify_misbehaviour_proof(const MisbehaviourProof& p,
                                 std::span<const common::PublicKey> witnesses, std::size_t k) {
  FL_RETURN_IF_ERROR(common::verify_cosigned(p.cosigned, witnesses, k));
  const Block& b = p.conflicting_block;
  const auto at = "conflicting block " + std::to_string(b.header.height);
  if (!block_hash_valid(b))
    return make_error(ErrorCode::kCorrupt, at + ": its hash does not match its header");
  if (!block_signature_valid(b)) {
    return make_error(
        ErrorCode::kBadSignature,
        at + ": proposer signature by " + common::short_id(b.header.proposer) + " does not verify");
  }
  const auto& c = p.conflicting;
  if (c.height != b.header.height || c.head_hash != b.hash || c.time_ms != b.header.time_ms) {
    return make_error(ErrorCode::kCorrupt, at + " is not the head its checkpoint names");
  }
  if (c.chain_id != p.cosigned.checkpoint.chain_id) {
    return make_error(ErrorCode::kInvalidArgument,
                      "the two checkpoints are of different chains, so they do not conflict");
  }
  if (!common::checkpoint_conflict(p.cosigned.checkpoint, c)) {
    return make_error(ErrorCode::kInvalidArgument,
                      at + " does not conflict with the cosigned checkpoint at height " +
                          std::to_string(p.cosigned.checkpoint.height));
  }
  return ok_status();
}

json misbehaviour_proof_json(const MisbehaviourProof& p) {
  return {{"conflict", p.conflict},
          {"cosigned", json::parse(common::cosigned_checkpoint_to_json(p.cosigned))},
          {"conflicting", json::parse(common::cosigned_checkpoint_to_json({p.conflicting, {}}))},
          {"conflicting_block", block_json(p.conflicting_block)}};
}

namespace {

Error bad(const std::string& what) {
  return make_error(ErrorCode::kInvalidArgument, "misbehaviour proof: " + what);
}

Result<const json*> member(const json& j, const char* name) {
  if (!j.is_object() || !j.contains(name)) return bad(std::string("has no \"") + name + "\"");
  return &j.at(name);
}

Result<std::uint64_t> u64_member(const json& j, const char* name) {
  FL_ASSIGN_OR_RETURN(const json* v, member(j, name));
  if (!v->is_number_unsigned())
    return bad(std::string("\"") + name + "\" is not a non-negative integer");
  return v->get<std::uint64_t>();
}

template <std::size_t N>
Result<std::array<std::uint8_t, N>> hex_member(const json& j, const char* name) {
  FL_ASSIGN_OR_RETURN(const json* v, member(j, name));
  if (!v->is_string()) return bad(std::string("\"") + name + "\" is not a hex string");
  auto a = common::fixed_from_hex<N>(v->get<std::string>(), name);
  if (!a.ok()) return bad(a.error().message);
  return a;
}

Result<Block> block_from_json(const json& j) {
  Block b;
  auto& h = b.header;
  FL_ASSIGN_OR_RETURN(h.height, u64_member(j, "height"));
  FL_ASSIGN_OR_RETURN(h.prev_hash, hex_member<32>(j, "prev_hash"));
  FL_ASSIGN_OR_RETURN(h.merkle_root, hex_member<32>(j, "merkle_root"));
  FL_ASSIGN_OR_RETURN(h.time_ms, u64_member(j, "time_ms"));
  FL_ASSIGN_OR_RETURN(h.tx_count, u64_member(j, "tx_count"));
  FL_ASSIGN_OR_RETURN(h.proposer, hex_member<32>(j, "proposer"));
  FL_ASSIGN_OR_RETURN(b.hash, hex_member<32>(j, "hash"));
  FL_ASSIGN_OR_RETURN(b.signature, hex_member<64>(j, "signature"));
  return b;
}

}  // namespace

Result<MisbehaviourProof> misbehaviour_proof_from_json(const json& j) {
  MisbehaviourProof p;
  FL_ASSIGN_OR_RETURN(const json* conflict, member(j, "conflict"));
  if (!conflict->is_string()) return bad("\"conflict\" is not a string");
  p.conflict = conflict->get<std::string>();
  FL_ASSIGN_OR_RETURN(const json* cosigned, member(j, "cosigned"));
  FL_ASSIGN_OR_RETURN(p.cosigned, common::cosigned_checkpoint_from_json(cosigned->dump()));
  FL_ASSIGN_OR_RETURN(const json* conflicting, member(j, "conflicting"));
  FL_ASSIGN_OR_RETURN(auto other, common::cosigned_checkpoint_from_json(conflicting->dump()));
  p.conflicting = other.checkpoint;
  FL_ASSIGN_OR_RETURN(const json* block, member(j, "conflicting_block"));
  FL_ASSIGN_OR_RETURN(p.conflicting_block, block_from_json(*block));
  return p;
}

}  // namespace fl::ledger
