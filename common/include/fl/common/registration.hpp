// What a worker signs to register its key: the same digest is checked by the coordinator
// when the worker enrols and by `fl-ledger verify` when it replays the registration
// transaction, so a registration cannot be forged by whoever writes the ledger.
#pragma once

#include <cstdint>
#include <string_view>

#include "fl/common/crypto.hpp"

namespace fl::common {

// BLAKE2b-256("fl-register-v1" || worker key || dataset fingerprint || timestamp_ms)
inline Digest registration_digest(const PublicKey& worker, std::string_view dataset_fingerprint,
                                  std::uint64_t timestamp_ms) {
  return Hasher().text("fl-register-v1").array(worker).text(dataset_fingerprint).u64(timestamp_ms).finish();
}

}  // namespace fl::common
