// A worker's commitment to its local dataset, and proofs that an example is (or is not) in it.
// The commitment is the RFC 6962 Merkle root (merkle.hpp) over the per-example digests sorted
// bytewise, written "merkle:v1:<count>:<root hex>" as the registration's dataset fingerprint.
// Sorted leaves make non-membership provable: two adjacent leaves that bracket the digest, or
// one edge leaf. No torch here, so the ledger CLI checks proofs without libtorch.
//
// Per-example digest (reproducible with any BLAKE2b-256, e.g. Python's hashlib.blake2b(
// digest_size=32)): over, in order, u64le(20) || "fedledger-example-v1" (the domain tag,
// length-prefixed), u64le(number of values), each value as float32 little-endian (the example
// as the worker trains on it: normalised, C order, e.g. [1,28,28]), then i64le(label).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

inline constexpr std::string_view kExampleDigestTag = "fedledger-example-v1";
inline constexpr std::string_view kCommitmentPrefix = "merkle:v1:";

// The per-example digest defined above.
Digest example_digest(std::span<const float> values, std::int64_t label);

struct DatasetCommitment {
  std::uint64_t count = 0;  // leaves (examples, duplicates included)
  Digest root{};            // merkle_root of the sorted leaves
  bool operator==(const DatasetCommitment&) const = default;
};

// Sorts the digests bytewise (the leaf order every commitment and proof uses).
std::vector<Digest> sorted_leaves(std::vector<Digest> digests);
// The commitment to leaves already sorted by sorted_leaves().
DatasetCommitment commit_sorted_leaves(std::span<const Digest> sorted);

// "merkle:v1:<count>:<64 hex digits>", and back; anything else is refused naming the text.
std::string to_string(const DatasetCommitment& commitment);
Result<DatasetCommitment> parse_dataset_commitment(std::string_view text);

// One leaf of the tree and its audit path (RFC 6962 PATH) to the root.
struct LeafPath {
  std::uint64_t index = 0;
  Digest leaf{};
  std::vector<Digest> path;
};

enum class Membership { kIncluded, kNotIncluded };
std::string_view to_string(Membership membership);  // "included" | "not included"

// Proof about one example digest: for an included example, the leaf equal to it; otherwise the
// adjacent leaves that bracket it (one at an edge, none for an empty tree).
struct ExampleProof {
  Digest example{};
  std::uint64_t tree_size = 0;
  Digest root{};
  Membership claim = Membership::kNotIncluded;
  std::vector<LeafPath> leaves;
};

// Builds the proof for `example` over leaves sorted by sorted_leaves().
ExampleProof prove_example(std::span<const Digest> sorted, const Digest& example);

// Checks `proof` against a trusted commitment: the root and size must be the commitment's,
// every audit path must lead to it, and the leaves must show the claim (equal leaf, or
// adjacent leaves bracketing the digest). Returns the membership proven, or an error naming
// what did not verify.
Result<Membership> check_example_proof(const ExampleProof& proof,
                                       const DatasetCommitment& commitment);

// The proof as a JSON document (format "fedledger-example-proof-v1", digests in hex), and back;
// a malformed document is an error naming `source` and the field.
std::string example_proof_to_json(const ExampleProof& proof);
Result<ExampleProof> example_proof_from_json(std::string_view text, std::string_view source);

}  // namespace fl::common
