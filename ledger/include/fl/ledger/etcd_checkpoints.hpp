// Witnesses' cosignatures published beside the etcd chain, so the job's owner can hand workers
// a final checkpoint: each cosignature is its own key,
//   P checkpoint/<20-digit height>/<witness key hex>  ->  a cosigned checkpoint (JSON) with that
//                                                        one cosignature,
// written by `fl-ledger witness cosign --publish URLS`. Readers combine the cosignatures of the
// same checkpoint and keep the highest one with k valid cosignatures from the allowed
// witnesses. etcd vouches for none of it: a reader checks every cosignature itself, and a
// forged or changed entry only fails to count.
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>

#include "fl/common/checkpoint.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/etcd_block_store.hpp"

namespace fl::ledger {

std::string checkpoint_key(std::string_view prefix, std::uint64_t height, const common::PublicKey& witness);

// Puts each cosignature of `cp` under its own key.
Status publish_cosignatures(const EtcdStoreOptions& options, const common::CosignedCheckpoint& cp);

// The highest checkpoint of chain `chain_id` at or above `from_height` that has k valid
// cosignatures by distinct keys among `witnesses`; nullopt when none has. Entries that do not
// parse, or are of another chain, are skipped.
Result<std::optional<common::CosignedCheckpoint>> latest_final_checkpoint(const EtcdStoreOptions& options,
                                                                          const common::Digest& chain_id,
                                                                          std::span<const common::PublicKey> witnesses,
                                                                          std::size_t k,
                                                                          std::uint64_t from_height = 0);

}  // namespace fl::ledger
