// Cosigned checkpoints: a short, signed statement of where a chain's head
// stands (chain id, height, head hash, transaction count, head time). Witnesses
// cosign one only when it extends what they cosigned before; a worker keeps the
// latest it saw beside its receipts, so a head that later moves backwards or
// sideways is caught with two signed statements in hand. Torch- and
// ledger-free, so workers can hold and check them (the ledger computes them).
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

struct Checkpoint {
  Digest chain_id{};  // hash of the genesis block: which chain this is about
  std::uint64_t height = 0;
  Digest head_hash{};           // hash of the block at `height`
  std::uint64_t tree_size = 0;  // transactions in blocks 0..height
  std::uint64_t time_ms = 0;    // the head block's own time, so every witness signs alike
};

bool operator==(const Checkpoint& a, const Checkpoint& b);

// BLAKE2b-256("fl-checkpoint-v1", chain_id, height, head_hash, tree_size,
// time_ms): what a witness signs. The domain string keeps it from ever matching
// a block or update digest.
Digest checkpoint_digest(const Checkpoint& cp);

struct Cosignature {
  PublicKey witness{};
  Signature signature{};  // Ed25519 over checkpoint_digest
};

struct CosignedCheckpoint {
  Checkpoint checkpoint;
  std::vector<Cosignature> cosignatures;
};

Cosignature cosign_checkpoint(const Checkpoint& cp, const KeyPair& witness);

// A ledger block's header: what its hash covers, here so a worker can link a receipt's block to
// a checkpoint without the ledger. block_hash() is
// BLAKE2b-256("fl-block-v1", height, prev_hash, merkle_root, time_ms, tx_count, proposer).
struct BlockHeader {
  std::uint64_t height = 0;
  Digest prev_hash{};
  Digest merkle_root{};
  std::uint64_t time_ms = 0;
  std::uint64_t tx_count = 0;
  PublicKey proposer{};
};
Digest block_hash(const BlockHeader& header);

// Ok when `headers` hold consecutive heights up to cp.height, each naming the hash of the one
// before, the last hashing to cp.head_hash, and the one at `height` hashes to `hash` with
// Merkle root `merkle_root`: the block a receipt names is on the chain the checkpoint fixes.
// The error names the first link that does not hold.
Status verify_under_checkpoint(const Checkpoint& cp, std::span<const BlockHeader> headers, std::uint64_t height,
                               const Digest& hash, const Digest& merkle_root);

// Ok when at least k cosignatures are valid, each by a distinct key among
// `witnesses`. The error (kBadSignature) says how many of k were valid and why
// each other one did not count, by index and key: "not an allowed witness", "a
// second cosignature by the same witness", "does not verify". k == 0 is
// kInvalidArgument: a checkpoint nobody vouches for proves nothing.
Status verify_cosigned(const CosignedCheckpoint& cp, std::span<const PublicKey> witnesses,
                       std::size_t k);

// How `later` conflicts with `held` (both of the same chain): a lower height
// ("rewound from height 9 to 6") or the same height with another head hash
// ("two heads at height 6"); nullopt when `later` is equal or higher (which a
// checkpoint alone cannot refute).
std::optional<std::string> checkpoint_conflict(const Checkpoint& held, const Checkpoint& later);

// One JSON object (hex digests and keys):
//   {"chain_id":..,"height":..,"head_hash":..,"tree_size":..,"time_ms":..,
//    "cosignatures":[{"witness":..,"signature":..}, ...]}
// The reader is strict: kInvalidArgument naming the missing or malformed field.
std::string cosigned_checkpoint_to_json(const CosignedCheckpoint& cp, int indent = -1);
Result<CosignedCheckpoint> cosigned_checkpoint_from_json(std::string_view text);

// Writes `bytes` to a temporary file beside `path`, fsyncs it, renames it over
// `path` and fsyncs the folder: afterwards `path` holds either its old bytes or
// all the new ones, even across a crash. State that a signature depends on is
// written this way before it is released.
Status write_file_durably(const std::filesystem::path& path, std::string_view bytes);

}  // namespace fl::common
