// The latest global model of each job, kept in etcd beside the chain, so that when a job's owner
// dies another member can take the job over from the model its last round recorded, even when
// the owner's disk is gone with it:
//   P model/<job>              "FLJM1" digest(32) size(u64) n(u64) then n chunk digests
//   P model-chunk/<BLAKE2b hex>  one piece (<= kChunkBytes) of the float32 parameters
// Chunks are written put-if-absent before the manifest; after the manifest moves on, the chunks
// only the previous model used are deleted, so etcd holds one model per job. The ledger's
// round names the model digest; get() checks every chunk and the whole model against it.
#pragma once

#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/etcd_block_store.hpp"

namespace fl::ledger {

class EtcdJobModels {
 public:
  // With options.owner_lease_key set, put() writes the manifest only while that key is held by
  // options.owner_lease_id (an owner that lost its lease cannot move the job's model).
  static Result<std::unique_ptr<EtcdJobModels>> open(const EtcdStoreOptions& options);

  Status put(const std::string& job_id, const common::Digest& digest,
             std::span<const float> values);
  // kNotFound when etcd holds no model of the job, or another one than `digest` (naming it);
  // kCorrupt when a chunk is missing or does not match.
  Result<std::vector<float>> get(const std::string& job_id, const common::Digest& digest) const;

 private:
  EtcdJobModels(std::unique_ptr<EtcdClient> client, std::string prefix, EtcdStoreOptions options)
      : client_(std::move(client)), prefix_(std::move(prefix)), options_(std::move(options)) {}
  struct Manifest {
    common::Digest digest{};
    std::uint64_t size = 0;
    std::vector<common::Digest> chunks;
  };
  Result<std::optional<Manifest>> manifest(const std::string& job_id) const;
  std::string chunk_key(const common::Digest& d) const;

  std::unique_ptr<EtcdClient> client_;
  std::string prefix_;
  EtcdStoreOptions options_;
};

}  // namespace fl::ledger
