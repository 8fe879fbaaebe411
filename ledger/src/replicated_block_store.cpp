#include "fl/ledger/replicated_block_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <thread>

#include "replay.hpp"

namespace fl::ledger {
namespace {

bool waits_for_quorum(const Error& e) {
  return e.code == ErrorCode::kUnavailable || e.code == ErrorCode::kTimeout;
}

std::string short_hex(std::span<const std::uint8_t> bytes) {
  return common::to_hex(bytes).substr(0, 16);
}

Result<common::Digest> to_digest(const std::vector<std::uint8_t>& bytes, const std::string& where) {
  common::Digest d{};
  if (bytes.size() != d.size()) {
    return make_error(ErrorCode::kCorrupt, where + ": hash of " + std::to_string(bytes.size()) +
                                               " bytes, not " + std::to_string(d.size()));
  }
  std::copy(bytes.begin(), bytes.end(), d.begin());
  return d;
}

// Blocks with their transactions, by height.
std::map<std::uint64_t, StoredBlock> by_height(const ChainRecords& records) {
  std::map<std::uint64_t, StoredBlock> out;
  for (const auto& b : records.blocks) out[b.height].block = b;
  for (const auto& t : records.txs) out[t.height].txs.push_back(t);
  return out;
}

}  // namespace

template <typename F>
auto ReplicatedBlockStore::with_quorum(const char* what, F&& f) const -> decltype(f()) {
  const auto since = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    auto r = f();
    if (r.ok() || !waits_for_quorum(r.error()) || stopped()) {
      if (attempt > 1 && (r.ok() || !waits_for_quorum(r.error()))) {
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
        spdlog::info("etcd answers again: {} goes on after {:.1f} s without a quorum", what,
                     waited);
      }
      return r;
    }
    if (attempt == 1 || attempt % 20 == 0) {
      spdlog::warn(
          "etcd has no quorum ({}); {} waits, and nothing is recorded locally until a "
          "quorum of members is back",
          r.error().message, what);
    }
    std::this_thread::sleep_for(options_.retry_pause);
  }
}

ReplicatedBlockStore::ReplicatedBlockStore(ReplicaOptions options,
                                           std::unique_ptr<EtcdBlockStore> etcd,
                                           std::unique_ptr<BlockStore> replica)
    : options_(std::move(options)), etcd_(std::move(etcd)), replica_(std::move(replica)) {}

ReplicatedBlockStore::~ReplicatedBlockStore() = default;

Result<std::unique_ptr<ReplicatedBlockStore>> ReplicatedBlockStore::open(ReplicaOptions options) {
  FL_ASSIGN_OR_RETURN(auto etcd, EtcdBlockStore::open(options.store));
  FL_ASSIGN_OR_RETURN(auto replica,
                      open_sqlite_block_store(options.replica_db, StoreAccess::kReadWrite));
  std::unique_ptr<ReplicatedBlockStore> store(
      new ReplicatedBlockStore(std::move(options), std::move(etcd), std::move(replica)));
  {
    const std::lock_guard lock(store->mutex_);
    FL_RETURN_IF_ERROR(store->replay_replica());
    auto synced = store->sync_locked(true);
    if (!synced.ok()) {
      return with_context(synced.error(), "the chain is not served");
    }
  }
  FL_ASSIGN_OR_RETURN(store->opening_report_, verify_store(*store->replica_));
  return store;
}

Result<std::uint64_t> ReplicatedBlockStore::sync() const {
  const std::lock_guard lock(mutex_);
  return sync_locked(false);
}

Result<std::uint64_t> ReplicatedBlockStore::sync_locked(bool compare_all) const {
  FL_ASSIGN_OR_RETURN(const std::uint64_t have, replica_->block_count());
  std::uint64_t from = compare_all || have == 0 ? 0 : have - 1;
  const std::string replica = "the local replica " + options_.replica_db.string();
  FL_ASSIGN_OR_RETURN(auto marker,
                      with_quorum("reading the archive marker", [&] { return etcd_->archive_marker(); }));
  if (marker && have < marker->below) {
    return make_error(ErrorCode::kPrecondition,
                      etcd_->name() + " holds the chain from block " + std::to_string(marker->below) +
                          " on: older blocks were archived out of etcd by " + common::short_id(marker->by) +
                          ", and " + replica + " holds " + std::to_string(have) +
                          " blocks. Seed it with a copy of a member's replica (copy that member's ledger.db while it "
                          "is stopped, or with `sqlite3 ledger.db .backup COPY`) and open it again");
  }
  if (marker) from = std::max(from, marker->below);
  FL_ASSIGN_OR_RETURN(auto records,
                      with_quorum("reading the chain", [&] { return etcd_->read_from(from); }));
  ChainRecords local;
  if (have > from) {
    FL_ASSIGN_OR_RETURN(local, replica_->read_from(from));
  }
  const auto theirs = by_height(records);
  for (const auto& [height, mine] : by_height(local)) {
    const auto it = theirs.find(height);
    if (it == theirs.end()) {
      return make_error(ErrorCode::kCorrupt,
                        etcd_->name() + " no longer holds block " + std::to_string(height) +
                            " that " + replica +
                            " has: the chain in etcd was truncated or "
                            "rewound; restore it from a replica before serving");
    }
    // The whole record, not only the header's hash: a changed transaction keeps the header.
    if (encode_stored_block(it->second) != encode_stored_block(mine)) {
      return make_error(ErrorCode::kCorrupt,
                        "block " + std::to_string(height) + " in " + etcd_->name() +
                            " differs from the one in " + replica + " (hash " +
                            short_hex(mine.block.hash) +
                            "): history was rewritten in etcd; the "
                            "replica keeps the original (run `fl-ledger replicate`)");
    }
  }
  // What is new is checked in full (hashes, links, Merkle roots, every signature, the rules)
  // before any of it enters the replica, so the replica only ever holds a verified chain.
  ChainRecords fresh;
  for (const auto& b : records.blocks) {
    if (b.height >= have) fresh.blocks.push_back(b);
  }
  for (const auto& t : records.txs) {
    if (t.height >= have) fresh.txs.push_back(t);
  }
  if (marker && marker->below != archive_checked_) {
    if (!verified_ || verified_->block_count != have) FL_RETURN_IF_ERROR(replay_replica());
    FL_RETURN_IF_ERROR(check_archive(*marker, records));
    archive_checked_ = marker->below;
  }
  if (fresh.blocks.empty()) return have;
  if (!verified_ || verified_->block_count != have) FL_RETURN_IF_ERROR(replay_replica());
  auto next = std::make_unique<ReplayCursor>(*verified_);
  if (auto failure = replay_chain(*next, fresh, ReplayOptions{.check_integrity = true})) {
    return failure->to_error(etcd_->name() + " fails verification",
                             "not copied into " + replica +
                                 "; the chain in etcd was changed "
                                 "there, or a writer appended a forged block");
  }
  std::size_t t = 0;
  for (const auto& block : fresh.blocks) {
    std::size_t end = t;
    while (end < fresh.txs.size() && fresh.txs[end].height == block.height) ++end;
    const std::span<const TxRecord> txs(fresh.txs.data() + t, end - t);
    t = end;
    FL_RETURN_IF_ERROR(copy_block(block, txs));
  }
  verified_ = std::move(next);
  return replica_->block_count();
}

Status ReplicatedBlockStore::check_archive(const ArchiveMarker& marker, const ChainRecords& etcd_records) const {
  const auto& cp = marker.checkpoint;
  const std::string what = "the archive marker in " + etcd_->name() + " (blocks below " +
                           std::to_string(marker.below) + " archived by " + common::short_id(marker.by) + ")";
  const std::string advice = "; nothing is served from this chain until the marker is replaced by a true one (the "
                             "blocks below it may have been deleted from etcd: restore them from a replica)";
  if (cp.checkpoint.chain_id != verified_->genesis_hash) {
    return make_error(ErrorCode::kCorrupt, what + " names a checkpoint of another chain (genesis " +
                                               common::to_hex(cp.checkpoint.chain_id).substr(0, 16) + ")" + advice);
  }
  const auto& consortium = verified_->state.consortium();
  if (auto st = common::verify_cosigned(cp, consortium.witnesses, consortium.quorum); !st.ok()) {
    return make_error(ErrorCode::kCorrupt,
                      what + ": its checkpoint is not final by the consortium's witnesses (" + st.error().message + ")" +
                          advice);
  }
  std::optional<BlockRecord> block;
  for (const auto& b : etcd_records.blocks) {
    if (b.height == marker.below) block = b;
  }
  if (!block) {
    FL_ASSIGN_OR_RETURN(auto local, replica_->read_from(marker.below));
    if (!local.blocks.empty() && local.blocks.front().height == marker.below) block = local.blocks.front();
  }
  if (!block || block->hash != std::vector<std::uint8_t>(cp.checkpoint.head_hash.begin(), cp.checkpoint.head_hash.end())) {
    return make_error(ErrorCode::kCorrupt, what + ": its final checkpoint names head " +
                                               common::to_hex(cp.checkpoint.head_hash).substr(0, 16) + " at height " +
                                               std::to_string(marker.below) + ", but this chain's block there is " +
                                               (block ? short_hex(block->hash) : std::string("missing")) + advice);
  }
  return ok_status();
}

Status ReplicatedBlockStore::replay_replica() const {
  FL_ASSIGN_OR_RETURN(auto records, replica_->read_from(0));
  auto cursor = std::make_unique<ReplayCursor>();
  if (auto failure = replay_chain(*cursor, records, ReplayOptions{.check_integrity = true})) {
    return failure->to_error(options_.replica_db.string(),
                             "the local replica fails verification; move it aside and start "
                             "again to refill it from etcd");
  }
  verified_ = std::move(cursor);
  return ok_status();
}

Status ReplicatedBlockStore::copy_block(const BlockRecord& record,
                                        std::span<const TxRecord> records) const {
  const std::string at = "block " + std::to_string(record.height) + " from " + etcd_->name();
  auto block = to_block(record);
  if (!block.ok()) return with_context(block.error(), at);
  std::vector<Transaction> txs;
  std::vector<std::vector<std::uint8_t>> bodies;
  std::vector<common::Digest> hashes;
  for (const auto& r : records) {
    auto tx = to_transaction(r);
    if (!tx.ok()) return with_context(tx.error(), at);
    FL_ASSIGN_OR_RETURN(auto hash, to_digest(r.hash, at));
    txs.push_back(std::move(tx).value());
    bodies.push_back(r.body);
    hashes.push_back(hash);
  }
  auto copied = replica_->append(*block, txs, bodies, hashes);
  if (!copied.ok()) {
    return with_context(copied.error(), "copying " + at + " into " + options_.replica_db.string());
  }
  return ok_status();
}

Result<ChainRecords> ReplicatedBlockStore::read_from(std::uint64_t from_height) const {
  const std::lock_guard lock(mutex_);
  FL_RETURN_IF_ERROR(sync_locked(false));
  return replica_->read_from(from_height);
}

Result<std::uint64_t> ReplicatedBlockStore::block_count() const {
  return with_quorum("counting blocks", [&] { return etcd_->block_count(); });
}

Result<std::optional<BlockRecord>> ReplicatedBlockStore::head() const {
  return with_quorum("reading the head", [&] { return etcd_->head(); });
}

Status ReplicatedBlockStore::append(const Block& block, std::span<const Transaction> txs,
                                    std::span<const std::vector<std::uint8_t>> bodies,
                                    std::span<const common::Digest> hashes) {
  const std::lock_guard lock(mutex_);
  const std::string what = "block " + std::to_string(block.header.height);
  // A retry sends the same bytes: if an earlier try committed and its reply was lost, etcd's
  // store recognises the block as already there.
  FL_RETURN_IF_ERROR(
      with_quorum(what.c_str(), [&] { return etcd_->append(block, txs, bodies, hashes); }));
  // The replica takes the block back from etcd, checked like every other block.
  Status copied = ok_status();
  if (auto synced = sync_locked(false); !synced.ok()) copied = synced.error();
  if (!copied.ok()) {
    return with_context(copied.error(), what + " is in etcd but not yet in the replica " +
                                            options_.replica_db.string());
  }
  return ok_status();
}

std::string ReplicatedBlockStore::name() const {
  return etcd_->name() + " (replica " + options_.replica_db.string() + ")";
}

}  // namespace fl::ledger
