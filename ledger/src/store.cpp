#include "store.hpp"

namespace fl::ledger::store {
namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS blocks(
  height INTEGER PRIMARY KEY, hash BLOB NOT NULL, prev_hash BLOB NOT NULL, merkle_root BLOB NOT NULL,
  time_ms INTEGER NOT NULL, tx_count INTEGER NOT NULL, proposer BLOB NOT NULL, signature BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS txs(
  height INTEGER NOT NULL, idx INTEGER NOT NULL, hash BLOB NOT NULL, type INTEGER NOT NULL,
  issuer BLOB NOT NULL, nonce INTEGER NOT NULL, amount INTEGER, body BLOB NOT NULL, signature BLOB NOT NULL,
  PRIMARY KEY(height, idx)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS txs_by_hash ON txs(hash);
CREATE INDEX IF NOT EXISTS txs_by_issuer ON txs(issuer);
CREATE TRIGGER IF NOT EXISTS blocks_no_update BEFORE UPDATE ON blocks
  BEGIN SELECT RAISE(ABORT, 'ledger blocks are append-only'); END;
CREATE TRIGGER IF NOT EXISTS blocks_no_delete BEFORE DELETE ON blocks
  BEGIN SELECT RAISE(ABORT, 'ledger blocks are append-only'); END;
CREATE TRIGGER IF NOT EXISTS txs_no_update BEFORE UPDATE ON txs
  BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;
CREATE TRIGGER IF NOT EXISTS txs_no_delete BEFORE DELETE ON txs
  BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only'); END;
)sql";

std::string where(std::uint64_t height, std::uint64_t index) {
  return "block " + std::to_string(height) + " tx " + std::to_string(index);
}

}  // namespace

Status create_schema(sql::Database& db) {
  // WAL: readers (fl-ledger, another process) read a consistent snapshot while the coordinator
  // writes; synchronous=FULL: a committed block survives power loss, not only a killed process.
  FL_RETURN_IF_ERROR(db.exec("PRAGMA journal_mode=WAL"));
  FL_RETURN_IF_ERROR(db.exec("PRAGMA synchronous=FULL"));
  return db.exec(kSchema);
}

Status configure_reader(sql::Database& db) { return db.exec("PRAGMA query_only=1"); }

Result<std::vector<BlockRow>> read_blocks(const sql::Database& db, std::uint64_t from_height) {
  FL_ASSIGN_OR_RETURN(auto st, sql::Statement::prepare(
                                   db, "SELECT height, hash, prev_hash, merkle_root, time_ms, tx_count, proposer, "
                                       "signature FROM blocks WHERE height >= ? ORDER BY height"));
  st.bind_u64(1, from_height);
  std::vector<BlockRow> rows;
  while (true) {
    FL_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    BlockRow r;
    r.height = st.column_u64(0);
    r.hash = st.column_blob(1);
    r.prev_hash = st.column_blob(2);
    r.merkle_root = st.column_blob(3);
    r.time_ms = st.column_u64(4);
    r.tx_count = st.column_u64(5);
    r.proposer = st.column_blob(6);
    r.signature = st.column_blob(7);
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::vector<TxRow>> read_txs(const sql::Database& db, std::uint64_t from_height) {
  FL_ASSIGN_OR_RETURN(auto st, sql::Statement::prepare(
                                   db, "SELECT height, idx, hash, type, issuer, nonce, amount, body, signature "
                                       "FROM txs WHERE height >= ? ORDER BY height, idx"));
  st.bind_u64(1, from_height);
  std::vector<TxRow> rows;
  while (true) {
    FL_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    TxRow r;
    r.height = st.column_u64(0);
    r.index = st.column_u64(1);
    r.hash = st.column_blob(2);
    r.type = st.column_int(3);
    r.issuer = st.column_blob(4);
    r.nonce = st.column_u64(5);
    if (!st.column_is_null(6)) r.amount = st.column_u64(6);
    r.body = st.column_blob(7);
    r.signature = st.column_blob(8);
    rows.push_back(std::move(r));
  }
  return rows;
}

Result<std::uint64_t> block_count(const sql::Database& db) {
  FL_ASSIGN_OR_RETURN(auto st, sql::Statement::prepare(db, "SELECT count(*) FROM blocks"));
  FL_ASSIGN_OR_RETURN(bool row, st.step());
  return row ? st.column_u64(0) : 0;
}

Status insert_block(const sql::Database& db, const Block& block, std::span<const Transaction> txs,
                    std::span<const std::vector<std::uint8_t>> bodies, std::span<const common::Digest> hashes) {
  const auto& h = block.header;
  FL_ASSIGN_OR_RETURN(auto b, sql::Statement::prepare(db, "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  b.bind_u64(1, h.height).bind(2, block.hash).bind(3, h.prev_hash).bind(4, h.merkle_root);
  b.bind_u64(5, h.time_ms).bind_u64(6, h.tx_count).bind(7, h.proposer).bind(8, block.signature);
  FL_RETURN_IF_ERROR(b.run());
  FL_ASSIGN_OR_RETURN(auto t, sql::Statement::prepare(db, "INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (std::size_t i = 0; i < txs.size(); ++i) {
    t.bind_u64(1, h.height).bind_u64(2, i).bind(3, hashes[i]).bind(4, static_cast<std::int64_t>(txs[i].type()));
    t.bind(5, txs[i].issuer).bind_u64(6, txs[i].nonce);
    if (auto amount = txs[i].amount()) {
      t.bind_u64(7, *amount);
    } else {
      t.bind_null(7);
    }
    t.bind(8, bodies[i]).bind(9, txs[i].signature);
    FL_RETURN_IF_ERROR(t.run());
  }
  return ok_status();
}

Result<Block> to_block(const BlockRow& row) {
  const std::string at = "block " + std::to_string(row.height);
  Block b;
  b.header.height = row.height;
  b.header.time_ms = row.time_ms;
  b.header.tx_count = row.tx_count;
  FL_ASSIGN_OR_RETURN(b.hash, sql::fixed_blob<32>(row.hash, at + " hash"));
  FL_ASSIGN_OR_RETURN(b.header.prev_hash, sql::fixed_blob<32>(row.prev_hash, at + " previous hash"));
  FL_ASSIGN_OR_RETURN(b.header.merkle_root, sql::fixed_blob<32>(row.merkle_root, at + " merkle root"));
  FL_ASSIGN_OR_RETURN(b.header.proposer, sql::fixed_blob<32>(row.proposer, at + " proposer"));
  FL_ASSIGN_OR_RETURN(b.signature, sql::fixed_blob<64>(row.signature, at + " signature"));
  return b;
}

Result<Transaction> to_transaction(const TxRow& row) {
  const std::string at = where(row.height, row.index);
  FL_ASSIGN_OR_RETURN(auto sig, sql::fixed_blob<64>(row.signature, at + " signature"));
  auto tx = decode(row.body, sig);
  if (!tx.ok()) return with_context(tx.error(), at);
  return tx;
}

}  // namespace fl::ledger::store
