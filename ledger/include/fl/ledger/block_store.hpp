// Where the ledger's blocks live. The Ledger reads and appends through this small interface
// only, so the embedded SQLite file and (later) an etcd-replicated store are interchangeable.
// Records come back as stored, unchecked: chain replay (and `fl-ledger verify`) judges them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "fl/common/crypto.hpp"
#include "fl/common/result.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/transaction.hpp"

namespace fl::ledger {

// A block header as stored: blobs of any size, so a malformed record can be named, not lost.
struct BlockRecord {
  std::uint64_t height = 0;
  std::vector<std::uint8_t> hash, prev_hash, merkle_root, proposer, signature;
  std::uint64_t time_ms = 0;
  std::uint64_t tx_count = 0;
};

// A transaction as stored: its canonical body and signature, plus the columns a store keeps
// beside them for lookups (type, issuer, nonce, amount), which `verify` checks against the body.
struct TxRecord {
  std::uint64_t height = 0;
  std::uint64_t index = 0;
  std::vector<std::uint8_t> hash, issuer, body, signature;
  std::int64_t type = 0;
  std::uint64_t nonce = 0;
  std::optional<std::uint64_t> amount;
};

struct ChainRecords {
  std::vector<BlockRecord> blocks;  // by height
  std::vector<TxRecord> txs;        // by (height, index)
};

class BlockStore {
 public:
  virtual ~BlockStore() = default;

  // The blocks at height >= from_height and their transactions, from one consistent snapshot.
  virtual Result<ChainRecords> read_from(std::uint64_t from_height) const = 0;
  virtual Result<std::uint64_t> block_count() const = 0;
  // The newest block, or nullopt when the store is empty.
  virtual Result<std::optional<BlockRecord>> head() const = 0;
  // Appends one block with its transactions (canonical bodies and hashes beside them), all or
  // nothing. kAlreadyExists when block.header.height is not the current block count: another
  // writer appended first, so the caller catches up and builds its block again.
  virtual Status append(const Block& block, std::span<const Transaction> txs,
                        std::span<const std::vector<std::uint8_t>> bodies,
                        std::span<const common::Digest> hashes) = 0;
  // Names the store in messages (the database file for SQLite).
  virtual std::string name() const = 0;
};

enum class StoreAccess { kReadWrite, kReadOnly };

// The embedded store: one SQLite file in WAL mode, written in one SQLite transaction per block.
// kReadOnly never creates or changes a file. A path that is missing (read-only), a directory,
// not SQLite, SQLite without the ledger's tables, or a copy made without its -wal file, is an
// error that names the file and what to do.
Result<std::unique_ptr<BlockStore>> open_sqlite_block_store(const std::filesystem::path& db,
                                                            StoreAccess access);

// Decodes a record (sizes checked); errors name the height (and index).
Result<Block> to_block(const BlockRecord& record);
Result<Transaction> to_transaction(const TxRecord& record);

}  // namespace fl::ledger
