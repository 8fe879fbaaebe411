#include "fl/ledger/etcd_checkpoints.hpp"

#include <map>

#include "fl/ledger/etcd_client.hpp"

namespace fl::ledger {

namespace {

std::string checkpoints_prefix(std::string_view prefix) { return std::string(prefix) + "checkpoint/"; }

}  // namespace

std::string checkpoint_key(std::string_view prefix, std::uint64_t height, const common::PublicKey& witness) {
  return checkpoints_prefix(prefix) + height_digits(height) + "/" + common::to_hex(witness);
}

Status publish_cosignatures(const EtcdStoreOptions& options, const common::CosignedCheckpoint& cp) {
  FL_ASSIGN_OR_RETURN(auto client, EtcdClient::create(options.etcd));
  const auto prefix = chain_prefix(options.chain);
  for (const auto& cosignature : cp.cosignatures) {
    common::CosignedCheckpoint one{cp.checkpoint, {cosignature}};
    auto put = client->put(checkpoint_key(prefix, cp.checkpoint.height, cosignature.witness),
                           common::cosigned_checkpoint_to_json(one));
    if (!put.ok()) return with_context(put.error(), "publishing the cosigned checkpoint in etcd");
  }
  return ok_status();
}

Result<std::optional<common::CosignedCheckpoint>> latest_final_checkpoint(const EtcdStoreOptions& options,
                                                                          const common::Digest& chain_id,
                                                                          std::span<const common::PublicKey> witnesses,
                                                                          std::size_t k,
                                                                          std::uint64_t from_height) {
  if (k == 0 || witnesses.empty()) return std::optional<common::CosignedCheckpoint>{};
  FL_ASSIGN_OR_RETURN(auto client, EtcdClient::create(options.etcd));
  const auto prefix = checkpoints_prefix(chain_prefix(options.chain));
  RangeRequest request;
  request.key = prefix + height_digits(from_height);
  request.range_end = prefix_end(prefix);
  FL_ASSIGN_OR_RETURN(const auto found, client->range(request));
  // The cosignatures of each checkpoint (by its digest), highest heights last.
  std::map<std::pair<std::uint64_t, common::Digest>, common::CosignedCheckpoint> by_checkpoint;
  for (const auto& kv : found.kvs) {
    auto cp = common::cosigned_checkpoint_from_json(kv.value);
    if (!cp.ok() || cp->checkpoint.chain_id != chain_id) continue;
    auto& combined = by_checkpoint[{cp->checkpoint.height, common::checkpoint_digest(cp->checkpoint)}];
    combined.checkpoint = cp->checkpoint;
    for (const auto& s : cp->cosignatures) combined.cosignatures.push_back(s);
  }
  for (auto it = by_checkpoint.rbegin(); it != by_checkpoint.rend(); ++it) {
    if (common::verify_cosigned(it->second, witnesses, k).ok()) {
      return std::optional<common::CosignedCheckpoint>(it->second);
    }
  }
  return std::optional<common::CosignedCheckpoint>{};
}

}  // namespace fl::ledger
