#include "fl/common/merkle.hpp"

#include <bit>

namespace fl::common {
namespace {

// The largest power of two smaller than n (n >= 2): RFC 6962's split point k.
std::size_t split_point(std::size_t n) { return std::bit_floor(n - 1); }

void build_path(std::span<const Digest> leaves, std::size_t index, std::vector<Digest>& path) {
  if (leaves.size() <= 1) return;
  const std::size_t k = split_point(leaves.size());
  if (index < k) {
    build_path(leaves.subspan(0, k), index, path);
    path.push_back(merkle_root(leaves.subspan(k)));
  } else {
    build_path(leaves.subspan(k), index - k, path);
    path.push_back(merkle_root(leaves.subspan(0, k)));
  }
}

}  // namespace

Digest merkle_leaf_hash(const Digest& leaf) { return Hasher().u8(0x00).array(leaf).finish(); }

Digest merkle_node_hash(const Digest& left, const Digest& right) {
  return Hasher().u8(0x01).array(left).array(right).finish();
}

Digest merkle_root(std::span<const Digest> leaves) {
  if (leaves.empty()) return Hasher().finish();
  if (leaves.size() == 1) return merkle_leaf_hash(leaves[0]);
  // Bottom-up with RFC 6962's shape: pair neighbours, carry an odd last node up unchanged.
  // This equals the recursive MTH definition because k is always the largest power of two.
  std::vector<Digest> level;
  level.reserve(leaves.size());
  for (const auto& leaf : leaves) level.push_back(merkle_leaf_hash(leaf));
  while (level.size() > 1) {
    std::size_t out = 0;
    for (std::size_t i = 0; i + 1 < level.size(); i += 2) level[out++] = merkle_node_hash(level[i], level[i + 1]);
    if (level.size() % 2 == 1) level[out++] = level.back();
    level.resize(out);
  }
  return level[0];
}

std::vector<Digest> inclusion_proof(std::span<const Digest> leaves, std::uint64_t index) {
  std::vector<Digest> path;
  if (index >= leaves.size()) return path;
  build_path(leaves, static_cast<std::size_t>(index), path);
  return path;
}

bool verify_inclusion(const Digest& leaf, std::uint64_t index, std::uint64_t tree_size,
                      std::span<const Digest> proof, const Digest& root) {
  if (index >= tree_size) return false;
  std::uint64_t fn = index;
  std::uint64_t sn = tree_size - 1;
  Digest r = merkle_leaf_hash(leaf);
  for (const auto& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = merkle_node_hash(p, r);
      while ((fn & 1) == 0 && fn != 0) {
        fn >>= 1;
        sn >>= 1;
      }
    } else {
      r = merkle_node_hash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && equal_bytes(r, root);
}

}  // namespace fl::common
