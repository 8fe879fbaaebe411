// The ledger's SQLite schema and raw row access. Rows are read as stored (blobs of any size),
// so `verify` can name a malformed row instead of failing to read it.
#pragma once

#include <optional>
#include <span>
#include <vector>

#include "fl/ledger/block.hpp"
#include "fl/ledger/transaction.hpp"
#include "sqlite.hpp"

namespace fl::ledger::store {

struct BlockRow {
  std::uint64_t height = 0;
  std::vector<std::uint8_t> hash, prev_hash, merkle_root, proposer, signature;
  std::uint64_t time_ms = 0;
  std::uint64_t tx_count = 0;
};

struct TxRow {
  std::uint64_t height = 0;
  std::uint64_t index = 0;
  std::vector<std::uint8_t> hash, issuer, body, signature;
  std::int64_t type = 0;
  std::uint64_t nonce = 0;
  std::optional<std::uint64_t> amount;
};

// WAL journal, synchronous=FULL, tables, indexes and the append-only triggers.
Status create_schema(sql::Database& db);
Status configure_reader(sql::Database& db);

Result<std::vector<BlockRow>> read_blocks(const sql::Database& db, std::uint64_t from_height);
// Ordered by (height, index).
Result<std::vector<TxRow>> read_txs(const sql::Database& db, std::uint64_t from_height);
Result<std::uint64_t> block_count(const sql::Database& db);

// Inserts one block and its transactions (inside the caller's write transaction).
Status insert_block(const sql::Database& db, const Block& block, std::span<const Transaction> txs,
                    std::span<const std::vector<std::uint8_t>> bodies, std::span<const common::Digest> hashes);

Result<Block> to_block(const BlockRow& row);
Result<Transaction> to_transaction(const TxRow& row);  // decodes the body; checks field sizes

}  // namespace fl::ledger::store
