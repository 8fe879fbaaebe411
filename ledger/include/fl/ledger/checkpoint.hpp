// Checkpoints of a ledger: where a fully verified chain's head stands
// (common/checkpoint.hpp), and what a witness hands over when a store's chain
// conflicts with a checkpoint it cosigned: its own cosigned checkpoint and the
// conflicting chain's block, signed by that block's proposer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

#include "fl/common/checkpoint.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/block_store.hpp"

namespace fl::ledger {

// A chain read at one snapshot and checked as `fl-ledger verify` checks it
// (every hash link, Merkle root, signature and rule), with what a witness
// compares: each block by height.
struct VerifiedChain {
  std::vector<Block> blocks;              // by height; blocks[0] is genesis
  std::vector<std::uint64_t> tree_sizes;  // transactions in blocks 0..h, by height h
  common::Checkpoint checkpoint() const;  // of the head
  common::Checkpoint checkpoint_at(std::uint64_t height) const;  // height < blocks.size()
};

// kCorrupt naming the first bad block ("<store>: block 7: ...") when the chain
// does not verify; kNotFound when the store holds no genesis block.
Result<VerifiedChain> read_verified_chain(const BlockStore& store);
Result<common::Checkpoint> checkpoint_of(const BlockStore& store);

// The checkpoint a witness cosigned, and a chain it was later shown that cannot
// extend it: that chain's block at the same height with another hash, or its
// head at a lower height. The block carries its proposer's signature, so the
// proof holds without trusting the witness's word.
struct MisbehaviourProof {
  common::CosignedCheckpoint cosigned;  // the witness's earlier view
  common::Checkpoint conflicting;       // the other chain at conflicting_block's height
  Block conflicting_block;
  std::string conflict;  // common::checkpoint_conflict(cosigned, conflicting)
};

// Ok when `cosigned` has k valid cosignatures from `witnesses`,
// conflicting_block hashes right, its proposer's signature verifies,
// `conflicting` names that block (height, hash, time) on the same chain, and
// the two conflict.
Status verify_misbehaviour_proof(const MisbehaviourProof& proof,
                                 std::span<const common::PublicKey> witnesses, std::size_t k);

nlohmann::json misbehaviour_proof_json(const MisbehaviourProof& proof);
// kInvalidArgument naming the missing or malformed field.
Result<MisbehaviourProof> misbehaviour_proof_from_json(const nlohmann::json& j);

}  // namespace fl::ledger
