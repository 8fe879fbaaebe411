// Block headers: height, previous block hash, RFC 6962 Merkle root of the block's transaction
// hashes, time, transaction count and proposer. The block hash is
// BLAKE2b-256("fl-block-v1", height, prev_hash, merkle_root, time_ms, tx_count, proposer)
// and the proposer signs exactly that hash. Block 0 (genesis) holds no transactions; its
// proposer is the ledger's minting authority.
#pragma once

#include <cstdint>

#include "fl/common/checkpoint.hpp"
#include "fl/common/crypto.hpp"

namespace fl::ledger {

// The header and its hash live in common (a worker checks them against checkpoints).
using common::BlockHeader;
using common::block_hash;

struct Block {
  BlockHeader header;
  common::Digest hash{};
  common::Signature signature{};
};

Block seal_block(const BlockHeader& header, const common::KeyPair& proposer);
// The stored hash matches the header and the proposer's signature verifies.
bool block_hash_valid(const Block& block);
bool block_signature_valid(const Block& block);

}  // namespace fl::ledger
