// A worker's memory of the ledger's head: the latest cosigned checkpoint it
// accepted, kept in one file. A checkpoint is accepted only with k valid
// cosignatures from the allowed witnesses; one that is lower than the one held,
// or at the same height with another head, is reported with both cosigned
// checkpoints as evidence that the ledger was rewound or forked.
#pragma once

#include <cstddef>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/checkpoint.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"

namespace fl::common {

// Two cosigned checkpoints of one chain that cannot both be true of an
// append-only ledger.
struct CheckpointEvidence {
  CosignedCheckpoint held;     // accepted earlier
  CosignedCheckpoint offered;  // handed over later
  std::string conflict;        // checkpoint_conflict(held, offered)
};

// Ok when both carry k valid cosignatures from `witnesses`, are of the same
// chain and conflict.
Status verify_checkpoint_evidence(const CheckpointEvidence& e, std::span<const PublicKey> witnesses,
                                  std::size_t k);

// {"conflict": "...", "held": <cosigned checkpoint>, "offered": <cosigned checkpoint>}: what a
// worker writes when it catches one (`fl-ledger checkpoint verify` reads it back). The reader
// is strict: kInvalidArgument naming the missing or malformed part.
std::string checkpoint_evidence_to_json(const CheckpointEvidence& e);
Result<CheckpointEvidence> checkpoint_evidence_from_json(std::string_view text);

struct CheckpointOffer {
  bool adopted = false;  // the offered checkpoint is now the one held (and on disk)
  std::optional<CheckpointEvidence> misbehaviour;  // set when it conflicts with the one held
};

class CheckpointKeeper {
 public:
  // Reads the checkpoint held in `file` (none yet when the file does not
  // exist); a file that is not a cosigned checkpoint, or one without k valid
  // cosignatures, is an error naming it.
  static Result<CheckpointKeeper> open(const std::filesystem::path& file,
                                       std::vector<PublicKey> witnesses, std::size_t k);

  // A higher checkpoint of the same chain is adopted and written (durably)
  // before this returns; an equal one changes nothing; a lower or diverging one
  // is reported, the held one kept. Errors: fewer than k valid cosignatures
  // (kBadSignature), another chain (kPrecondition), the file could not be
  // written (kIo).
  Result<CheckpointOffer> offer(const CosignedCheckpoint& cp);

  const std::optional<CosignedCheckpoint>& latest() const { return latest_; }

 private:
  CheckpointKeeper(std::filesystem::path file, std::vector<PublicKey> witnesses, std::size_t k)
      : file_(std::move(file)), witnesses_(std::move(witnesses)), k_(k) {}

  std::filesystem::path file_;
  std::vector<PublicKey> witnesses_;
  std::size_t k_;
  std::optional<CosignedCheckpoint> latest_;
};

}  // namespace fl::common
