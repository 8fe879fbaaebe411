// A witness: an Ed25519 key and a view on disk of the chain it has cosigned. It
// cosigns a store's checkpoint only when the chain verifies in full and extends
// that view (the same block hash at every height it saw, a head no lower), and
// it writes the new view durably before it releases the signature, so no crash
// or restart lets it cosign two conflicting heads.
#pragma once

#include <filesystem>
#include <optional>

#include "fl/common/checkpoint.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/block_store.hpp"
#include "fl/ledger/checkpoint.hpp"

namespace fl::ledger {

struct CosignOutcome {
  // The store's head, when its chain verified.
  std::optional<common::Checkpoint> checkpoint;
  // Ok when the witness cosigned; otherwise why it refused, naming the
  // height(s): the chain does not verify ("block 3: ..."), a block it saw is
  // rewritten, or the head went back.
  Status verdict;
  // The checkpoint with this witness's cosignature (already on disk), when it
  // cosigned.
  std::optional<common::CosignedCheckpoint> cosigned;
  // Set when the store's chain, signed by its proposers, conflicts with what
  // was cosigned.
  std::optional<MisbehaviourProof> proof;
};

class Witness {
 public:
  // Creates `state_dir` (if needed) holding an empty view for `witness`;
  // kAlreadyExists if a view is there already (it is never reset: that would
  // let the witness cosign a fork).
  static Status init(const std::filesystem::path& state_dir, const common::PublicKey& witness);
  // kNotFound without a view (run init); kPrecondition when the view belongs to
  // another key.
  static Result<Witness> open(const std::filesystem::path& state_dir, common::KeyPair key);

  // Reads the store at one snapshot and cosigns its head, or refuses. An Error
  // only when the witness cannot do its job: its view cannot be read, locked or
  // written (then no signature is released). Cosigning the same head twice
  // gives the same signature.
  Result<CosignOutcome> cosign(const BlockStore& store);

  // The last checkpoint this witness cosigned, as on disk (nullopt before the
  // first).
  Result<std::optional<common::CosignedCheckpoint>> last_cosigned() const;
  const common::PublicKey& public_key() const { return key_.public_key; }

 private:
  Witness(std::filesystem::path dir, common::KeyPair key)
      : dir_(std::move(dir)), key_(std::move(key)) {}

  std::filesystem::path dir_;
  common::KeyPair key_;
};

}  // namespace fl::ledger
