#include "fl/common/dataset_commitment.hpp"

#include <algorithm>
#include <charconv>

#include "fl/common/merkle.hpp"

namespace fl::common {
namespace {

Error unverified(const std::string& what) {
  return make_error(ErrorCode::kCorrupt, "example proof does not verify: " + what);
}

std::string leaf_name(const LeafPath& l) {
  return "leaf " + std::to_string(l.index) + " (" + to_hex(l.leaf).substr(0, 16) + ")";
}

Status check_paths(const ExampleProof& proof) {
  for (const auto& l : proof.leaves) {
    if (l.index >= proof.tree_size) {
      return unverified(leaf_name(l) + " lies outside a tree of " +
                        std::to_string(proof.tree_size) + " leaves");
    }
    if (!verify_inclusion(l.leaf, l.index, proof.tree_size, l.path, proof.root)) {
      return unverified("the audit path of " + leaf_name(l) + " does not lead to root " +
                        to_hex(proof.root));
    }
  }
  return ok_status();
}

Status check_inclusion(const ExampleProof& proof) {
  if (proof.leaves.size() != 1) {
    return unverified("an inclusion proof needs exactly one leaf, it has " +
                      std::to_string(proof.leaves.size()));
  }
  if (proof.leaves[0].leaf != proof.example) {
    return unverified(leaf_name(proof.leaves[0]) + " is not the example digest " +
                      to_hex(proof.example));
  }
  return ok_status();
}

Status check_edge(const ExampleProof& proof) {
  const auto& l = proof.leaves[0];
  const bool below_first = l.index == 0 && proof.example < l.leaf;
  const bool above_last = l.index + 1 == proof.tree_size && l.leaf < proof.example;
  if (below_first || above_last) return ok_status();
  return unverified(leaf_name(l) + " is not an edge leaf beyond the example digest " +
                    to_hex(proof.example));
}

Status check_bracket(const ExampleProof& proof) {
  const bool in_order = proof.leaves[0].index < proof.leaves[1].index;
  const auto& a = proof.leaves[in_order ? 0 : 1];
  const auto& b = proof.leaves[in_order ? 1 : 0];
  if (b.index != a.index + 1) {
    return unverified(leaf_name(a) + " and " + leaf_name(b) + " are not adjacent");
  }
  if (!(a.leaf < proof.example && proof.example < b.leaf)) {
    return unverified(leaf_name(a) + " and " + leaf_name(b) +
                      " do not bracket the example digest " + to_hex(proof.example));
  }
  return ok_status();
}

Status check_exclusion(const ExampleProof& proof) {
  if (proof.tree_size == 0) {
    if (proof.leaves.empty()) return ok_status();
    return unverified("a tree of no leaves has no leaves to show");
  }
  for (const auto& l : proof.leaves) {
    if (l.leaf == proof.example) {
      return unverified(leaf_name(l) + " equals the example digest, yet the proof claims " +
                        "'not included'");
    }
  }
  if (proof.leaves.size() == 1) return check_edge(proof);
  if (proof.leaves.size() == 2) return check_bracket(proof);
  return unverified("a non-inclusion proof needs one edge leaf or two adjacent leaves, it has " +
                    std::to_string(proof.leaves.size()));
}

LeafPath leaf_path(std::span<const Digest> sorted, std::uint64_t index) {
  return {index, sorted[index], inclusion_proof(sorted, index)};
}

}  // namespace

Digest example_digest(std::span<const float> values, std::int64_t label) {
  return Hasher()
      .text(kExampleDigestTag)
      .u64(values.size())
      .raw(values.data(), values.size_bytes())
      .i64(label)
      .finish();
}

std::vector<Digest> sorted_leaves(std::vector<Digest> digests) {
  std::sort(digests.begin(), digests.end());
  return digests;
}

DatasetCommitment commit_sorted_leaves(std::span<const Digest> sorted) {
  return {sorted.size(), merkle_root(sorted)};
}

std::string to_string(const DatasetCommitment& commitment) {
  return std::string(kCommitmentPrefix) + std::to_string(commitment.count) + ":" +
         to_hex(commitment.root);
}

Result<DatasetCommitment> parse_dataset_commitment(std::string_view text) {
  const auto bad = [&](const std::string& why) {
    return make_error(ErrorCode::kInvalidArgument,
                      "dataset fingerprint '" + std::string(text.substr(0, 100)) +
                          "' is not a Merkle commitment (" + why + ")");
  };
  if (!text.starts_with(kCommitmentPrefix)) {
    return bad("expected " + std::string(kCommitmentPrefix) + "<count>:<root hex>");
  }
  const auto rest = text.substr(kCommitmentPrefix.size());
  const auto colon = rest.find(':');
  if (colon == std::string_view::npos) return bad("no ':' after the count");
  DatasetCommitment c;
  const auto count = rest.substr(0, colon);
  const auto [end, ec] = std::from_chars(count.data(), count.data() + count.size(), c.count);
  if (count.empty() || ec != std::errc() || end != count.data() + count.size()) {
    return bad("the count is not a whole number");
  }
  auto root = digest_from_hex(rest.substr(colon + 1));
  if (!root.ok()) return bad("the root is not 64 hex digits");
  c.root = *root;
  return c;
}

std::string_view to_string(Membership membership) {
  return membership == Membership::kIncluded ? "included" : "not included";
}

ExampleProof prove_example(std::span<const Digest> sorted, const Digest& example) {
  ExampleProof proof{example, sorted.size(), merkle_root(sorted), Membership::kNotIncluded, {}};
  const auto pos = static_cast<std::uint64_t>(
      std::lower_bound(sorted.begin(), sorted.end(), example) - sorted.begin());
  const std::uint64_t n = sorted.size();
  if (pos < n && sorted[pos] == example) {
    proof.claim = Membership::kIncluded;
    proof.leaves.push_back(leaf_path(sorted, pos));
  } else if (n > 0) {
    if (pos > 0) proof.leaves.push_back(leaf_path(sorted, pos - 1));
    if (pos < n) proof.leaves.push_back(leaf_path(sorted, pos));
  }
  return proof;
}

Result<Membership> check_example_proof(const ExampleProof& proof,
                                       const DatasetCommitment& commitment) {
  if (proof.tree_size != commitment.count) {
    return unverified("the proof is for a tree of " + std::to_string(proof.tree_size) +
                      " leaves, the committed tree has " + std::to_string(commitment.count));
  }
  if (proof.root != commitment.root) {
    return unverified("the proof's root " + to_hex(proof.root) + " is not the committed root " +
                      to_hex(commitment.root));
  }
  FL_RETURN_IF_ERROR(check_paths(proof));
  FL_RETURN_IF_ERROR(proof.claim == Membership::kIncluded ? check_inclusion(proof)
                                                          : check_exclusion(proof));
  return proof.claim;
}

}  // namespace fl::common
