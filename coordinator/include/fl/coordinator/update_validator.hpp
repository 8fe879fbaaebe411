// Checks a received update before anything uses it: the header decodes within limits, the key
// it names is the one registered from the sending connection, the signature verifies, the key
// was asked this round (checked only after the signature, so nothing is charged to a key a
// header merely names), job/round/base model match,
// the layout equals the global model's, the payload has exactly that many bytes, every value is
// finite, and sample count and norm are within limits. The payload stays in the buffer it
// arrived in (a ZeroMQ frame behind the worker channel).
#pragma once

#include <cstdint>
#include <set>
#include <span>
#include <string>

#include "fl/common/result.hpp"
#include "fl/common/wire.hpp"
#include "fl/coordinator/worker_channel.hpp"

namespace fl::coordinator {

struct RoundExpectation {
  std::string job_id;
  std::uint64_t round = 0;
  common::Digest base_model_digest{};
  const common::TensorLayout* layout = nullptr;
  const std::set<common::PublicKey>* sampled = nullptr;
  std::uint64_t max_samples = 0;
  double max_norm = 0;  // 0: no limit
  const common::PublicKey* sender = nullptr;  // the key registered from the sending peer, if any
};

struct ValidatedUpdate {
  common::UpdateHeader header;
  common::Digest digest{};  // update_signing_digest(header): the update's identity
  SharedBytes payload;       // owns the bytes `values` points into
  std::span<const float> values;
};

// How far a refused update got. Only a kVerified rejection says something about a key (its
// owner signed what was refused), so only those may go on the ledger; the rest is counted.
enum class Standing { kUndecodable, kUnregistered, kBadSignature, kUnsampled, kVerified };

// What is known about a rejected update, for the log, the metrics and the ledger.
struct Rejection {
  common::PublicKey worker{};  // as claimed by the header (zero when it did not decode)
  common::Digest digest{};
  std::string reason;
  Standing standing = Standing::kUndecodable;
};

Result<ValidatedUpdate> validate_update(const InboundMessage& message, const RoundExpectation& expect,
                                        Rejection& rejection);

}  // namespace fl::coordinator
