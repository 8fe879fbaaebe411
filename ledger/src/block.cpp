#include "fl/ledger/block.hpp"

namespace fl::ledger {

Block seal_block(const BlockHeader& header, const common::KeyPair& proposer) {
  Block b{header, block_hash(header), {}};
  b.signature = common::sign(proposer.secret_key, b.hash);
  return b;
}

bool block_hash_valid(const Block& block) { return common::equal_bytes(block_hash(block.header), block.hash); }

bool block_signature_valid(const Block& block) {
  return common::verify(block.header.proposer, block_hash(block.header), block.signature);
}

}  // namespace fl::ledger
