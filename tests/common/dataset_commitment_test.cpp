// The sorted-leaf dataset commitment: its text form, inclusion and non-inclusion proofs, their
// JSON form, and forged proofs that must fail naming what did not verify.
#include "fl/common/dataset_commitment.hpp"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace fl::common {
namespace {

std::vector<Digest> leaves_of(int n) {
  std::vector<Digest> digests;
  for (int i = 0; i < n; ++i) {
    const std::vector<float> values{static_cast<float>(i), 0.5f, -1.0f};
    digests.push_back(example_digest(values, i % 3));
  }
  return sorted_leaves(std::move(digests));
}

// A digest strictly between two adjacent leaves (or outside the edges): found by search.
Digest absent_digest(const std::vector<Digest>& leaves, bool want_edge) {
  for (int i = 0; i < 10000; ++i) {
    const Digest d = blake2b_256("absent " + std::to_string(i));
    const bool edge = d < leaves.front() || leaves.back() < d;
    if (edge == want_edge) return d;
  }
  ADD_FAILURE() << "no absent digest found";
  return {};
}

std::string error_of(const ExampleProof& proof, const DatasetCommitment& commitment) {
  auto r = check_example_proof(proof, commitment);
  return r.ok() ? "" : r.error().message;
}

class DatasetCommitmentTest : public ::testing::Test {
 protected:
  std::vector<Digest> leaves_ = leaves_of(11);
  DatasetCommitment commitment_ = commit_sorted_leaves(leaves_);
};

TEST_F(DatasetCommitmentTest, CommitmentTextRoundTrips) {
  const std::string text = to_string(commitment_);
  EXPECT_TRUE(text.starts_with("merkle:v1:11:")) << text;
  auto parsed = parse_dataset_commitment(text);
  ASSERT_TRUE(parsed.ok()) << parsed.error().to_string();
  EXPECT_EQ(*parsed, commitment_);
}

TEST_F(DatasetCommitmentTest, RefusesAFlatHashAsACommitment) {
  auto parsed = parse_dataset_commitment(to_hex(commitment_.root));
  ASSERT_FALSE(parsed.ok());
  EXPECT_NE(parsed.error().message.find("not a Merkle commitment"), std::string::npos);
  EXPECT_FALSE(parse_dataset_commitment("merkle:v1:x1:" + to_hex(commitment_.root)).ok());
  EXPECT_FALSE(parse_dataset_commitment("merkle:v1:11:abcd").ok());
}

TEST_F(DatasetCommitmentTest, InclusionProofOfEveryLeafVerifies) {
  for (const auto& leaf : leaves_) {
    const auto proof = prove_example(leaves_, leaf);
    EXPECT_EQ(proof.claim, Membership::kIncluded);
    auto m = check_example_proof(proof, commitment_);
    ASSERT_TRUE(m.ok()) << m.error().to_string();
    EXPECT_EQ(*m, Membership::kIncluded);
  }
}

TEST_F(DatasetCommitmentTest, NonInclusionProofBetweenTwoLeavesVerifies) {
  const auto proof = prove_example(leaves_, absent_digest(leaves_, false));
  ASSERT_EQ(proof.leaves.size(), 2u);
  EXPECT_EQ(proof.leaves[1].index, proof.leaves[0].index + 1);
  auto m = check_example_proof(proof, commitment_);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(*m, Membership::kNotIncluded);
}

TEST_F(DatasetCommitmentTest, NonInclusionProofBeyondAnEdgeLeafVerifies) {
  const auto proof = prove_example(leaves_, absent_digest(leaves_, true));
  ASSERT_EQ(proof.leaves.size(), 1u);
  auto m = check_example_proof(proof, commitment_);
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(*m, Membership::kNotIncluded);
}

TEST_F(DatasetCommitmentTest, NonInclusionInAnEmptyTreeVerifies) {
  const std::vector<Digest> none;
  const auto proof = prove_example(none, leaves_[0]);
  auto m = check_example_proof(proof, commit_sorted_leaves(none));
  ASSERT_TRUE(m.ok()) << m.error().to_string();
  EXPECT_EQ(*m, Membership::kNotIncluded);
}

TEST_F(DatasetCommitmentTest, ProofJsonRoundTrips) {
  const auto proof = prove_example(leaves_, absent_digest(leaves_, false));
  auto back = example_proof_from_json(example_proof_to_json(proof), "proof.json");
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->example, proof.example);
  EXPECT_EQ(back->root, proof.root);
  EXPECT_EQ(back->tree_size, proof.tree_size);
  EXPECT_EQ(back->claim, proof.claim);
  ASSERT_EQ(back->leaves.size(), proof.leaves.size());
  EXPECT_EQ(back->leaves[1].path, proof.leaves[1].path);
  EXPECT_TRUE(check_example_proof(*back, commitment_).ok());
}

TEST_F(DatasetCommitmentTest, MalformedProofJsonNamesTheField) {
  auto r = example_proof_from_json(R"({"format":"fedledger-example-proof-v1","claim":"maybe"})",
                                   "p.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("p.json: \"claim\""), std::string::npos) << r.error().message;
}

TEST_F(DatasetCommitmentTest, RejectsAnInclusionProofWithAChangedExampleDigest) {
  auto proof = prove_example(leaves_, leaves_[4]);
  proof.example[0] ^= 1;
  EXPECT_NE(error_of(proof, commitment_).find("is not the example digest"), std::string::npos);
}

TEST_F(DatasetCommitmentTest, RejectsAProofWithAChangedLeafDigest) {
  auto proof = prove_example(leaves_, leaves_[4]);
  proof.example[0] ^= 1;
  proof.leaves[0].leaf = proof.example;
  EXPECT_NE(error_of(proof, commitment_).find("does not lead to root"), std::string::npos);
}

TEST_F(DatasetCommitmentTest, RejectsAProofWithAChangedAuditPath) {
  auto proof = prove_example(leaves_, leaves_[4]);
  proof.leaves[0].path[1][7] ^= 0x80;
  EXPECT_NE(error_of(proof, commitment_).find("audit path of leaf 4"), std::string::npos);
}

TEST_F(DatasetCommitmentTest, RejectsAProofForAnotherRoot) {
  const auto other = leaves_of(12);
  const auto proof = prove_example(other, other[3]);
  const auto message = error_of(proof, commitment_);
  EXPECT_NE(message.find("12 leaves, the committed tree has 11"), std::string::npos) << message;
  auto same_size = commit_sorted_leaves(other);
  same_size.root[0] ^= 1;
  EXPECT_NE(error_of(proof, same_size).find("is not the committed root"), std::string::npos);
}

TEST_F(DatasetCommitmentTest, RejectsNeighboursThatAreNotAdjacent) {
  auto proof = prove_example(leaves_, absent_digest(leaves_, false));
  ASSERT_EQ(proof.leaves.size(), 2u);
  // Widen the bracket by one leaf: both paths still verify, but a leaf could hide between.
  const auto wider =
      proof.leaves[0].index > 0 ? proof.leaves[0].index - 1 : proof.leaves[1].index + 1;
  auto& moved = proof.leaves[0].index > 0 ? proof.leaves[0] : proof.leaves[1];
  moved = prove_example(leaves_, leaves_[wider]).leaves[0];
  EXPECT_NE(error_of(proof, commitment_).find("are not adjacent"), std::string::npos);
}

TEST_F(DatasetCommitmentTest, RejectsANonInclusionClaimForAnIncludedExample) {
  auto proof = prove_example(leaves_, leaves_[5]);
  proof.claim = Membership::kNotIncluded;
  EXPECT_NE(error_of(proof, commitment_).find("equals the example digest"), std::string::npos);
}

TEST_F(DatasetCommitmentTest, RejectsAnEdgeLeafThatDoesNotBoundTheExample) {
  auto proof = prove_example(leaves_, absent_digest(leaves_, false));
  proof.leaves.resize(1);
  EXPECT_NE(error_of(proof, commitment_).find("is not an edge leaf"), std::string::npos);
}

TEST(ExampleDigest, DependsOnEveryValueAndTheLabel) {
  const std::vector<float> a{1, 2, 3}, b{1, 2, 3.5f};
  EXPECT_EQ(example_digest(a, 1), example_digest(a, 1));
  EXPECT_NE(example_digest(a, 1), example_digest(b, 1));
  EXPECT_NE(example_digest(a, 1), example_digest(a, 2));
}

}  // namespace
}  // namespace fl::common
