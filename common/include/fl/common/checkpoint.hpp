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
