// RFC 6962 (Certificate Transparency) Merkle trees over BLAKE2b-256: the ledger commits each
// block's transaction hashes with merkle_root(), and a worker checks its receipt with
// verify_inclusion() without holding the ledger. Leaves are hashed as H(0x00 || leaf) and
// inner nodes as H(0x01 || left || right), so a leaf can never pose as an inner node.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "fl/common/crypto.hpp"

namespace fl::common {

Digest merkle_leaf_hash(const Digest& leaf);                         // H(0x00 || leaf)
Digest merkle_node_hash(const Digest& left, const Digest& right);    // H(0x01 || left || right)

// MTH(D[n]) of RFC 6962 section 2.1; the root of no leaves is H() (BLAKE2b-256 of nothing).
Digest merkle_root(std::span<const Digest> leaves);

// PATH(index, D[n]) of RFC 6962 section 2.1.1: the sibling hashes from the leaf up to the
// root. index must be < leaves.size() (an empty path otherwise).
std::vector<Digest> inclusion_proof(std::span<const Digest> leaves, std::uint64_t index);

// RFC 9162 section 2.1.3.2: true when `proof` links `leaf` at `index` of a tree with
// `tree_size` leaves to `root`.
bool verify_inclusion(const Digest& leaf, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Digest> proof, const Digest& root);

}  // namespace fl::common
