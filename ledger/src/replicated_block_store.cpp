#include "fl/ledger/replicated_block_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <thread>

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

}  // namespace

Result<std::vector<std::string>> parse_etcd_endpoints(std::string_view text,
                                                      const std::string& where) {
  std::vector<std::string> urls;
  for (std::size_t start = 0; !text.empty() && start <= text.size();) {
    const std::size_t end = std::min(text.find(',', start), text.size());
    std::string url(text.substr(start, end - start));
    url.erase(0, url.find_first_not_of(" \t"));
    url.erase(url.find_last_not_of(" \t") + 1);
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0) {
      return make_error(ErrorCode::kInvalidArgument,
                        where + ": '" + url + "' is not an etcd client URL; write the members as "
                        "\"http://HOST:PORT,http://HOST:PORT\" (their --advertise-client-urls)");
    }
    urls.push_back(std::move(url));
    start = end + 1;
  }
  return urls;
}

template <typename F>
auto ReplicatedBlockStore::with_quorum(const char* what, F&& f) const -> decltype(f()) {
  const auto since = std::chrono::steady_clock::now();
  for (int attempt = 1;; ++attempt) {
    auto r = f();
    if (r.ok() || !waits_for_quorum(r.error()) || stopped()) {
      if (attempt > 1 && (r.ok() || !waits_for_quorum(r.error()))) {
        const double waited =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
        spdlog::info("etcd answers again: {} goes on after {:.1f} s without a quorum", what, waited);
      }
      return r;
    }
    if (attempt == 1 || attempt % 20 == 0) {
      spdlog::warn("etcd has no quorum ({}); {} waits, and nothing is recorded locally until a "
                   "quorum of members is back", r.error().message, what);
    }
    std::this_thread::sleep_for(options_.retry_pause);
  }
}

ReplicatedBlockStore::ReplicatedBlockStore(ReplicaOptions options,
                                           std::unique_ptr<EtcdBlockStore> etcd,
                                           std::unique_ptr<BlockStore> replica)
    : options_(std::move(options)), etcd_(std::move(etcd)), replica_(std::move(replica)) {}

Result<std::unique_ptr<ReplicatedBlockStore>> ReplicatedBlockStore::open(ReplicaOptions options) {
  FL_ASSIGN_OR_RETURN(auto etcd, EtcdBlockStore::open(options.store));
  FL_ASSIGN_OR_RETURN(auto replica,
                      open_sqlite_block_store(options.replica_db, StoreAccess::kReadWrite));
  std::unique_ptr<ReplicatedBlockStore> store(
      new ReplicatedBlockStore(std::move(options), std::move(etcd), std::move(replica)));
  {
    const std::lock_guard lock(store->mutex_);
    FL_RETURN_IF_ERROR(store->sync_locked(true));
  }
  FL_ASSIGN_OR_RETURN(store->opening_report_, verify_store(*store->replica_));
  const auto& report = store->opening_report_;
  if (!report.ok && report.blocks > 0) {
    return make_error(ErrorCode::kCorrupt,
                      store->name() + ": the chain fails verification at " +
                          report.failure->to_string() +
                          "; it is not served (run `fl-ledger replicate` to see where)");
  }
  return store;
}

Result<std::uint64_t> ReplicatedBlockStore::sync() const {
  const std::lock_guard lock(mutex_);
  return sync_locked(false);
}

Result<std::uint64_t> ReplicatedBlockStore::sync_locked(bool compare_all) const {
  FL_ASSIGN_OR_RETURN(const std::uint64_t have, replica_->block_count());
  const std::uint64_t from = compare_all || have == 0 ? 0 : have - 1;
  FL_ASSIGN_OR_RETURN(auto records,
                      with_quorum("reading the chain", [&] { return etcd_->read_from(from); }));
  ChainRecords local;
  if (have > from) {
    FL_ASSIGN_OR_RETURN(local, replica_->read_from(from));
  }
  const std::string replica = "the local replica " + options_.replica_db.string();
  for (const auto& mine : local.blocks) {
    const auto it = std::find_if(records.blocks.begin(), records.blocks.end(),
                                 [&](const BlockRecord& b) { return b.height == mine.height; });
    if (it == records.blocks.end()) {
      return make_error(ErrorCode::kCorrupt,
                        etcd_->name() + " no longer holds block " + std::to_string(mine.height) +
                            " that " + replica + " has: the chain in etcd was truncated or "
                            "rewound; restore it from a replica before serving");
    }
    if (it->hash != mine.hash) {
      return make_error(ErrorCode::kCorrupt,
                        "block " + std::to_string(mine.height) + " in " + etcd_->name() +
                            " (hash " + short_hex(it->hash) + ") differs from the one in " +
                            replica + " (" + short_hex(mine.hash) +
                            "): history was rewritten in etcd; run `fl-ledger replicate`");
    }
  }
  std::size_t t = 0;
  for (const auto& block : records.blocks) {
    std::size_t end = t;
    while (end < records.txs.size() && records.txs[end].height == block.height) ++end;
    const std::span<const TxRecord> txs(records.txs.data() + t, end - t);
    t = end;
    if (block.height >= have) FL_RETURN_IF_ERROR(copy_block(block, txs));
  }
  return replica_->block_count();
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
  FL_ASSIGN_OR_RETURN(const std::uint64_t have, replica_->block_count());
  // Behind (another writer's blocks came first): the copy from etcd brings ours with them.
  Status copied = ok_status();
  if (have == block.header.height) {
    copied = replica_->append(block, txs, bodies, hashes);
  } else if (auto synced = sync_locked(false); !synced.ok()) {
    copied = synced.error();
  }
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
