// The replicated BlockStore: one chain in etcd, ordered by etcd's Raft log, so several
// coordinators share it and a minority of members may fail. Each coordinator still replays
// (and may keep a verified SQLite copy of) what it reads; etcd orders blocks, it does not vouch
// for them: a block rewritten behind the store's back fails replay and shows on the watch.
//
// Keys under the chain prefix P = "/fedledger/<chain>/":
//   P head                     {"height":N,"hash":"<hex>"}: the newest block
//   P block/<20-digit height>  "FLB1" 0 <record>  (the block's header and transactions), or
//                              "FLB1" 1 <manifest> (size and digests of its chunks)
//   P chunk/<BLAKE2b-256 hex>  one piece (<= kChunkBytes) of a record over kInlineBytes
//   P archive                  ArchiveMarker (JSON): blocks below a final checkpoint were moved
//                              out of etcd into the members' replicas (`fl-ledger archive`)
// Append is ONE guarded txn: head is still the parent the block names, block/<h> is absent
// and (if configured) the owner's lease key is held by the owner's lease; then block/<h> and
// head are put together. A big block's chunks are written first, each by its own put-if-absent
// under its content address, because etcd's default request limit (1.5 MiB) would refuse them
// in one txn; an unreferenced chunk left by a writer that lost the race is harmless (the block
// key names exactly its chunks and their digests), and a retry writes the same ones. This works
// against members with default settings; --max-request-bytes need not be raised.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "fl/common/checkpoint.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/block_store.hpp"
#include "fl/ledger/etcd_client.hpp"

namespace fl::ledger {

inline constexpr std::size_t kInlineBytes = 1 << 20;  // larger records are chunked
inline constexpr std::size_t kChunkBytes = 1 << 20;

struct EtcdStoreOptions {
  EtcdOptions etcd;
  std::string chain = "main";  // keys under /fedledger/<chain>/
  // Optional ownership guard for later job-ownership work: when set, an append commits only
  // while `owner_lease_key` is attached to lease `owner_lease_id` (else kPrecondition).
  std::string owner_lease_key;
  std::int64_t owner_lease_id = 0;
};

std::string chain_prefix(std::string_view chain);  // "/fedledger/<chain>/"
std::string height_digits(std::uint64_t height);  // 20 digits, zero-padded: keys sort by height
std::string block_key(std::string_view prefix, std::uint64_t height);

// A block's record as the store keeps it (the columns the SQLite store keeps, in one value).
struct StoredBlock {
  BlockRecord block;
  std::vector<TxRecord> txs;
};
std::vector<std::uint8_t> encode_stored_block(const StoredBlock& stored);
// Sizes checked; errors name `where` (e.g. the key).
Result<StoredBlock> decode_stored_block(std::span<const std::uint8_t> bytes,
                                        const std::string& where);

// Old history archived out of etcd, so etcd's size limit is not the ledger's: the blocks below
// `below` (and the chunks they named) were deleted from etcd after this marker was written; the
// members' SQLite replicas keep them. `checkpoint` is final by the consortium's witnesses at
// height `below`: every replica checks that its own block there has that hash before it goes
// on, so a forged marker (or one over another chain) stops the replicas instead of hiding a
// truncation. A replica that lacks the archived blocks is seeded with a copy of a member's.
struct ArchiveMarker {
  std::uint64_t below = 0;
  common::CosignedCheckpoint checkpoint;  // checkpoint.height == below
  common::PublicKey by{};                 // who archived (named in logs; the checkpoint is the proof)
  std::vector<std::string> chunks;        // the chunk keys deleted with the blocks
};
std::string archive_marker_json(const ArchiveMarker& marker);
Result<ArchiveMarker> archive_marker_from_json(std::string_view text);  // errors name the field

class EtcdBlockStore final : public BlockStore {
 public:
  // Checks the options and that a member answers; creates nothing until the first append.
  static Result<std::unique_ptr<EtcdBlockStore>> open(EtcdStoreOptions options);

  // One revision. kPrecondition when blocks at or above from_height were archived out of etcd
  // (read a member's replica instead).
  Result<ChainRecords> read_from(std::uint64_t from_height) const override;
  Result<std::uint64_t> block_count() const override;
  Result<std::optional<BlockRecord>> head() const override;
  // kAlreadyExists when another writer appended at this height first; success when the same
  // block is already there (a retry after a lost reply); kPrecondition when the owner lease
  // is no longer held.
  Status append(const Block& block, std::span<const Transaction> txs,
                std::span<const std::vector<std::uint8_t>> bodies,
                std::span<const common::Digest> hashes) override;
  std::string name() const override;  // "etcd <first endpoint> /fedledger/<chain>/"

  const std::string& prefix() const { return prefix_; }
  EtcdClient& client() const { return *client_; }

  // The archive marker; nullopt while nothing was archived.
  Result<std::optional<ArchiveMarker>> archive_marker() const;
  // The chunk keys the blocks in [from, below) name (their manifests).
  Result<std::vector<std::string>> chunk_keys(std::uint64_t from, std::uint64_t below) const;
  // Puts `marker` (guarded: no marker yet, or the one `previous` names), then deletes the
  // blocks below marker.below and marker.chunks. The caller has checked the marker against a
  // verified replica (`fl-ledger archive` does). A crash in between leaves a marker whose
  // blocks are partly still there, which readers accept; a retry deletes the rest.
  Status archive(const ArchiveMarker& marker, const std::optional<ArchiveMarker>& previous) const;

 private:
  EtcdBlockStore(EtcdStoreOptions options, std::unique_ptr<EtcdClient> client);
  struct Head {
    std::int64_t revision = 0;            // the revision everything else is read at
    std::optional<std::uint64_t> height;  // nullopt: empty chain
  };
  Result<Head> read_head() const;
  Result<StoredBlock> load(const KeyValue& kv, std::int64_t revision) const;
  Result<std::string> block_value(const StoredBlock& stored);  // writes chunks if needed

  EtcdStoreOptions options_;
  std::unique_ptr<EtcdClient> client_;
  std::string prefix_;
};

// A block key (or chunk) changed after it was written: blocks are written once, so any later
// put or delete under the chain's block/ or chunk/ keys is a rewrite of history.
struct ChainRewrite {
  std::uint64_t height = 0;  // for a chunk: 0 (the key names which)
  std::string key;
  bool deleted = false;
};

// Deletes the archive marker accounts for (blocks below it, the chunks it lists) are not
// rewrites: the watch reports each new marker once instead, and the replicas check the marker's
// checkpoint at their next sync.
struct ChainArchived {
  std::uint64_t below = 0;
  common::PublicKey by{};
};

// Watches a chain for rewrites from `start_revision` (0: now) on.
class ChainRewriteWatch {
 public:
  static Result<std::unique_ptr<ChainRewriteWatch>> start(const EtcdStoreOptions& options,
                                                          std::int64_t start_revision = 0);
  // Rewrites seen since the last poll, waiting up to `wait` for the first event of any kind.
  // `archived`, when given, gets each archive marker whose deletes were seen.
  Result<std::vector<ChainRewrite>> poll(std::chrono::milliseconds wait, std::vector<ChainArchived>* archived = nullptr);

 private:
  ChainRewriteWatch(std::unique_ptr<EtcdWatch> watch, std::unique_ptr<EtcdBlockStore> store)
      : watch_(std::move(watch)), store_(std::move(store)) {}
  std::unique_ptr<EtcdWatch> watch_;
  std::unique_ptr<EtcdBlockStore> store_;  // reads the archive marker when deletes come
  std::uint64_t archived_below_ = 0;       // the marker reported last
};

}  // namespace fl::ledger
