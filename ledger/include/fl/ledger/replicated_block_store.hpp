// A coordinator's block store on the etcd chain: etcd holds and orders the blocks, and a local
// SQLite replica keeps a fully verified copy, filled from etcd before the coordinator serves and
// on every catch-up. A block reaches the replica only after etcd committed it, so while etcd has
// no quorum nothing is recorded locally alone: reads and appends wait (retrying) until a quorum
// answers again, or until the caller's stop flag is set.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "fl/common/result.hpp"
#include "fl/ledger/block_store.hpp"
#include "fl/ledger/etcd_block_store.hpp"
#include "fl/ledger/ledger.hpp"

namespace fl::ledger {

struct ReplayCursor;  // ledger/src/replay.hpp

// "http://a:2379, http://b:2379" -> each URL (none for empty text); anything but http(s) URLs
// is an error naming `where` and the expected form.
Result<std::vector<std::string>> parse_etcd_endpoints(std::string_view text,
                                                      const std::string& where);

struct ReplicaOptions {
  EtcdStoreOptions store;
  std::filesystem::path replica_db;         // created when missing
  const std::atomic<bool>* stop = nullptr;  // set: a wait for etcd's quorum gives up
  std::chrono::milliseconds retry_pause{500};
};

class ReplicatedBlockStore final : public BlockStore {
 public:
  // Opens etcd and the replica, checks that every block the replica holds is etcd's block at
  // that height (above the archive, when old history was archived out of etcd: the replica must
  // then hold the archived blocks, and the archive's final checkpoint must name its block), copies the blocks etcd has beyond it, and verifies the replica in full (every
  // hash, signature, Merkle root and balance). A block rewritten in etcd, or one etcd no longer
  // holds, is an error naming its height; nothing is served from a chain that fails.
  static Result<std::unique_ptr<ReplicatedBlockStore>> open(ReplicaOptions options);

  ~ReplicatedBlockStore() override;
  // Brings the replica up to etcd's head (new blocks verified in full before they are copied),
  // then reads it from the replica.
  Result<ChainRecords> read_from(std::uint64_t from_height) const override;
  Result<std::uint64_t> block_count() const override;        // etcd's
  Result<std::optional<BlockRecord>> head() const override;  // etcd's
  // Etcd's guarded append (waiting while there is no quorum), then the replica catches up,
  // taking the block back from etcd. Errors as EtcdBlockStore::append.
  Status append(const Block& block, std::span<const Transaction> txs,
                std::span<const std::vector<std::uint8_t>> bodies,
                std::span<const common::Digest> hashes) override;
  std::string name() const override;  // "etcd ... (replica PATH)"

  // Copies the blocks etcd has beyond the replica; the replica's block count after.
  Result<std::uint64_t> sync() const;
  const VerifyReport& opening_report() const { return opening_report_; }
  const BlockStore& replica() const { return *replica_; }
  const EtcdBlockStore& etcd() const { return *etcd_; }

 private:
  ReplicatedBlockStore(ReplicaOptions options, std::unique_ptr<EtcdBlockStore> etcd,
                       std::unique_ptr<BlockStore> replica);
  Result<std::uint64_t> sync_locked(bool compare_all) const;
  Status copy_block(const BlockRecord& block, std::span<const TxRecord> txs) const;
  Status replay_replica() const;  // verifies the replica in full into verified_
  // The archive marker's checkpoint is of this chain, final by the consortium's witnesses, and
  // names this chain's block at marker.below (from the replica, or `etcd_records`).
  Status check_archive(const ArchiveMarker& marker, const ChainRecords& etcd_records) const;
  mutable std::uint64_t archive_checked_ = 0;  // the marker's `below` checked last
  bool stopped() const { return options_.stop && options_.stop->load(); }
  // Calls `f` until etcd answers (anything but kUnavailable or kTimeout) or stop is set.
  template <typename F>
  auto with_quorum(const char* what, F&& f) const -> decltype(f());

  ReplicaOptions options_;
  std::unique_ptr<EtcdBlockStore> etcd_;
  std::unique_ptr<BlockStore> replica_;
  VerifyReport opening_report_;
  mutable std::unique_ptr<ReplayCursor> verified_;  // where the verified replica stands
  mutable std::mutex mutex_;
};

}  // namespace fl::ledger
