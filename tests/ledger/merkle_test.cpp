// RFC 6962 Merkle roots and inclusion proofs against trees written out by hand.
#include <gtest/gtest.h>

#include "fl/common/merkle.hpp"

namespace fl::common {
namespace {

Digest leaf(int i) { return blake2b_256("leaf " + std::to_string(i)); }
// Hand-written RFC 6962 hashes, independent of merkle.cpp.
Digest L(int i) { return Hasher().u8(0x00).array(leaf(i)).finish(); }
Digest N(const Digest& a, const Digest& b) { return Hasher().u8(0x01).array(a).array(b).finish(); }

std::vector<Digest> leaves(int n) {
  std::vector<Digest> out;
  for (int i = 0; i < n; ++i) out.push_back(leaf(i));
  return out;
}

TEST(MerkleTree, RootOfNoLeavesIsTheHashOfNothing) {
  EXPECT_EQ(merkle_root({}), blake2b_256(std::string_view()));
}

TEST(MerkleTree, RootsMatchHandComputedTreesOf1_2_3_5_8Leaves) {
  EXPECT_EQ(merkle_root(leaves(1)), L(0));
  EXPECT_EQ(merkle_root(leaves(2)), N(L(0), L(1)));
  EXPECT_EQ(merkle_root(leaves(3)), N(N(L(0), L(1)), L(2)));
  EXPECT_EQ(merkle_root(leaves(5)), N(N(N(L(0), L(1)), N(L(2), L(3))), L(4)));
  const Digest left = N(N(L(0), L(1)), N(L(2), L(3)));
  const Digest right = N(N(L(4), L(5)), N(L(6), L(7)));
  EXPECT_EQ(merkle_root(leaves(8)), N(left, right));
}

TEST(MerkleTree, ProofsMatchHandComputedPaths) {
  EXPECT_TRUE(inclusion_proof(leaves(1), 0).empty());
  EXPECT_EQ(inclusion_proof(leaves(2), 1), (std::vector<Digest>{L(0)}));
  EXPECT_EQ(inclusion_proof(leaves(3), 0), (std::vector<Digest>{L(1), L(2)}));
  EXPECT_EQ(inclusion_proof(leaves(3), 2), (std::vector<Digest>{N(L(0), L(1))}));
  EXPECT_EQ(inclusion_proof(leaves(5), 2), (std::vector<Digest>{L(3), N(L(0), L(1)), L(4)}));
  EXPECT_EQ(inclusion_proof(leaves(5), 4), (std::vector<Digest>{N(N(L(0), L(1)), N(L(2), L(3)))}));
  EXPECT_EQ(inclusion_proof(leaves(8), 5),
            (std::vector<Digest>{L(4), N(L(6), L(7)), N(N(L(0), L(1)), N(L(2), L(3)))}));
}

TEST(MerkleTree, EveryProofOfTreesUpTo20LeavesVerifies) {
  for (int n = 1; n <= 20; ++n) {
    const auto ls = leaves(n);
    const Digest root = merkle_root(ls);
    for (int i = 0; i < n; ++i) {
      EXPECT_TRUE(verify_inclusion(ls[i], i, n, inclusion_proof(ls, i), root)) << "n=" << n << " i=" << i;
    }
  }
}

TEST(MerkleTree, ProofFailsForAnotherLeafIndexSizeOrRoot) {
  const auto ls = leaves(5);
  const Digest root = merkle_root(ls);
  const auto proof = inclusion_proof(ls, 2);
  ASSERT_TRUE(verify_inclusion(ls[2], 2, 5, proof, root));
  EXPECT_FALSE(verify_inclusion(ls[3], 2, 5, proof, root));
  EXPECT_FALSE(verify_inclusion(ls[2], 3, 5, proof, root));
  EXPECT_FALSE(verify_inclusion(ls[2], 2, 9, proof, root));
  EXPECT_FALSE(verify_inclusion(ls[2], 2, 5, proof, merkle_root(leaves(4))));
  EXPECT_FALSE(verify_inclusion(ls[2], 5, 5, proof, root));
  auto bent = proof;
  bent[1][0] ^= 1;
  EXPECT_FALSE(verify_inclusion(ls[2], 2, 5, bent, root));
  EXPECT_FALSE(verify_inclusion(ls[2], 2, 5, std::span(proof).first(2), root));
}

TEST(MerkleTree, LeafCannotPoseAsInnerNode) {
  // A second preimage attempt: present the two-leaf root's children as a single leaf.
  const auto ls = leaves(2);
  const Digest inner = N(L(0), L(1));
  EXPECT_NE(merkle_root(std::vector<Digest>{inner}), merkle_root(ls));
}

}  // namespace
}  // namespace fl::common
