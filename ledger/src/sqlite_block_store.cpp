// The embedded BlockStore: the ledger's blocks and transactions in one SQLite file (WAL).
#include <sqlite3.h>

#include <array>
#include <cstddef>
#include <vector>

#include "fl/ledger/block_store.hpp"

#include "sqlite.hpp"

namespace fl::ledger {
namespace {

namespace fs = std::filesystem;

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

// The first 20 bytes of the file: SQLite's magic and, at offset 18, 2 when the file is in WAL mode.
struct FileHead {
  std::uintmax_t size = 0;
  bool sqlite = false;
  bool wal_mode = false;
};

Result<FileHead> read_head(const fs::path& path) {
  FileHead head;
  std::error_code ec;
  head.size = fs::file_size(path, ec);
  if (ec)
    return make_error(ErrorCode::kIo,
                      "cannot read ledger database " + path.string() + ": " + ec.message());
  // Read through SQLite's own file layer, never a plain descriptor: closing any descriptor of a
  // database file drops every POSIX lock this process holds on it, a writing connection's too,
  // and another process's connection could then take itself for the last one and delete the
  // -wal file under that writer. SQLite's layer keeps such a descriptor open while the process
  // holds locks on the file.
  sqlite3_vfs* vfs = sqlite3_vfs_find(nullptr);
  if (vfs == nullptr) return make_error(ErrorCode::kInternal, "SQLite has no default file layer");
  std::vector<std::max_align_t> storage(static_cast<std::size_t>(vfs->szOsFile) / sizeof(std::max_align_t) + 1);
  auto* file = reinterpret_cast<sqlite3_file*>(storage.data());
  const std::string name = path.string();
  int opened_flags = 0;
  if (vfs->xOpen(vfs, name.c_str(), file, SQLITE_OPEN_READONLY | SQLITE_OPEN_MAIN_DB, &opened_flags) != SQLITE_OK) {
    return make_error(ErrorCode::kIo, "cannot read ledger database " + path.string());
  }
  std::array<unsigned char, 20> bytes{};
  const int read = file->pMethods->xRead(file, bytes.data(), static_cast<int>(bytes.size()), 0);
  file->pMethods->xClose(file);
  if (read != SQLITE_OK) return head;  // shorter than a header (SQLITE_IOERR_SHORT_READ): not SQLite
  static constexpr char kMagic[16] = "SQLite format 3";  // with its NUL
  head.sqlite = std::equal(kMagic, kMagic + 16, bytes.begin());
  head.wal_mode = bytes[18] == 2;
  return head;
}

Error not_a_ledger(const fs::path& path, const std::string& why) {
  return make_error(ErrorCode::kInvalidArgument,
                    path.string() + " is not a FedLedger ledger (" + why + "); check --db");
}

// Missing ledger tables in a WAL-mode (or empty) file with no -wal beside it: most likely a
// copy taken while the coordinator was writing, whose blocks were still in the -wal file.
Error missing_tables(const fs::path& path, const FileHead& head) {
  fs::path wal = path;
  wal += "-wal";
  std::error_code ec;
  if ((head.wal_mode || head.size == 0) && !fs::exists(wal, ec)) {
    return make_error(
        ErrorCode::kCorrupt,
        path.string() +
            " holds no ledger tables. If it is a copy of a ledger, it was made "
            "without its write-ahead log: copy " +
            wal.filename().string() +
            " together with it (or stop the coordinator before copying); otherwise it is not a "
            "FedLedger ledger");
  }
  return not_a_ledger(path, "an SQLite database without the ledger's blocks and txs tables");
}

class SqliteBlockStore final : public BlockStore {
 public:
  explicit SqliteBlockStore(sql::Database db) : db_(std::move(db)) {}

  static Result<std::unique_ptr<BlockStore>> open(const fs::path& path, StoreAccess access);

  Result<ChainRecords> read_from(std::uint64_t from_height) const override {
    FL_ASSIGN_OR_RETURN(auto txn, sql::Transaction::begin_read(db_));  // one snapshot
    ChainRecords out;
    FL_ASSIGN_OR_RETURN(out.blocks, read_blocks(from_height, false));
    FL_ASSIGN_OR_RETURN(out.txs, read_txs(from_height));
    return out;
  }

  Result<std::uint64_t> block_count() const override {
    FL_ASSIGN_OR_RETURN(auto st, sql::Statement::prepare(db_, "SELECT count(*) FROM blocks"));
    FL_ASSIGN_OR_RETURN(bool row, st.step());
    return row ? st.column_u64(0) : 0;
  }

  Result<std::optional<BlockRecord>> head() const override {
    FL_ASSIGN_OR_RETURN(auto rows, read_blocks(0, true));
    if (rows.empty()) return std::optional<BlockRecord>{};
    return std::optional<BlockRecord>(std::move(rows.front()));
  }

  Status append(const Block& block, std::span<const Transaction> txs,
                std::span<const std::vector<std::uint8_t>> bodies,
                std::span<const common::Digest> hashes) override {
    FL_ASSIGN_OR_RETURN(auto txn, sql::Transaction::begin_write(db_));
    FL_ASSIGN_OR_RETURN(auto count, block_count());
    if (count != block.header.height) {
      return make_error(ErrorCode::kAlreadyExists, db_.path().string() + ": block " +
                                                       std::to_string(block.header.height) +
                                                       " was appended by another writer first");
    }
    FL_RETURN_IF_ERROR(insert(block, txs, bodies, hashes));
    return txn.commit();
  }

  std::string name() const override { return db_.path().string(); }

 private:
  Result<std::vector<BlockRecord>> read_blocks(std::uint64_t from_height, bool newest_only) const;
  Result<std::vector<TxRecord>> read_txs(std::uint64_t from_height) const;
  Status insert(const Block& block, std::span<const Transaction> txs,
                std::span<const std::vector<std::uint8_t>> bodies,
                std::span<const common::Digest> hashes);
  Status check_tables(const FileHead& head) const;

  mutable sql::Database db_;
};

Status SqliteBlockStore::check_tables(const FileHead& head) const {
  auto st = sql::Statement::prepare(
      db_, "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('blocks', 'txs')");
  if (!st.ok()) return not_a_ledger(db_.path(), "SQLite cannot read it as a database");
  auto row = st->step();
  if (!row.ok()) return not_a_ledger(db_.path(), "SQLite cannot read it as a database");
  if (*row && st->column_int(0) == 2) return ok_status();
  return missing_tables(db_.path(), head);
}

Result<std::unique_ptr<BlockStore>> SqliteBlockStore::open(const fs::path& path,
                                                           StoreAccess access) {
  std::error_code ec;
  if (fs::is_directory(path, ec)) {
    return make_error(ErrorCode::kInvalidArgument,
                      path.string() +
                          " is a directory, not a ledger database file; "
                          "pass the file, e.g. --db " +
                          (path / "ledger.db").string());
  }
  const bool exists = fs::exists(path, ec);
  if (!exists && access == StoreAccess::kReadOnly) {
    return make_error(ErrorCode::kNotFound,
                      "ledger database " + path.string() +
                          " does not exist; check --db (the coordinator creates it)");
  }
  FileHead head;
  if (exists) {
    if (!fs::is_regular_file(path, ec)) return not_a_ledger(path, "not a regular file");
    FL_ASSIGN_OR_RETURN(head, read_head(path));
    if (head.size > 0 && !head.sqlite) return not_a_ledger(path, "not an SQLite database");
  }
  // A reader must not leave -wal/-shm files behind. With no -wal beside the file no process
  // has it open for writing (SQLite removes the -wal when the last connection closes), so the
  // file alone is the whole ledger and is read as immutable.
  fs::path wal = path;
  wal += "-wal";
  auto mode = sql::Database::Mode::kReadWrite;
  if (access == StoreAccess::kReadOnly) {
    mode = fs::exists(wal, ec) ? sql::Database::Mode::kReadOnly : sql::Database::Mode::kImmutable;
  }
  FL_ASSIGN_OR_RETURN(auto db, sql::Database::open(path, mode));
  auto store = std::make_unique<SqliteBlockStore>(std::move(db));
  if (access == StoreAccess::kReadOnly || head.size > 0) {
    auto tables = store->check_tables(head);
    // An empty SQLite database (no tables at all) may become a ledger when opened for writing.
    if (!tables.ok() && access == StoreAccess::kReadOnly) return tables.error();
    if (!tables.ok()) {
      FL_ASSIGN_OR_RETURN(
          auto any, sql::Statement::prepare(store->db_, "SELECT count(*) FROM sqlite_master"));
      FL_ASSIGN_OR_RETURN(bool row, any.step());
      if (row && any.column_int(0) > 0) return tables.error();
    }
  }
  if (access == StoreAccess::kReadWrite) {
    // WAL: readers (fl-ledger, another process) read a consistent snapshot while the coordinator
    // writes; synchronous=FULL: a committed block survives power loss, not only a killed process.
    FL_RETURN_IF_ERROR(store->db_.exec("PRAGMA journal_mode=WAL"));
    FL_RETURN_IF_ERROR(store->db_.exec("PRAGMA synchronous=FULL"));
    FL_RETURN_IF_ERROR(store->db_.exec(kSchema));
  } else {
    FL_RETURN_IF_ERROR(store->db_.exec("PRAGMA query_only=1"));
  }
  return std::unique_ptr<BlockStore>(std::move(store));
}

Result<std::vector<BlockRecord>> SqliteBlockStore::read_blocks(std::uint64_t from_height,
                                                               bool newest_only) const {
  FL_ASSIGN_OR_RETURN(
      auto st,
      sql::Statement::prepare(
          db_, newest_only ? "SELECT height, hash, prev_hash, merkle_root, time_ms, tx_count, "
                             "proposer, signature FROM blocks WHERE height >= ? "
                             "ORDER BY height DESC LIMIT 1"
                           : "SELECT height, hash, prev_hash, merkle_root, time_ms, tx_count, "
                             "proposer, signature FROM blocks WHERE height >= ? ORDER BY height"));
  st.bind_u64(1, from_height);
  std::vector<BlockRecord> rows;
  while (true) {
    FL_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    BlockRecord r;
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

Result<std::vector<TxRecord>> SqliteBlockStore::read_txs(std::uint64_t from_height) const {
  FL_ASSIGN_OR_RETURN(auto st,
                      sql::Statement::prepare(
                          db_,
                          "SELECT height, idx, hash, type, issuer, nonce, amount, body, signature "
                          "FROM txs WHERE height >= ? ORDER BY height, idx"));
  st.bind_u64(1, from_height);
  std::vector<TxRecord> rows;
  while (true) {
    FL_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    TxRecord r;
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

Status SqliteBlockStore::insert(const Block& block, std::span<const Transaction> txs,
                                std::span<const std::vector<std::uint8_t>> bodies,
                                std::span<const common::Digest> hashes) {
  const auto& h = block.header;
  FL_ASSIGN_OR_RETURN(
      auto b, sql::Statement::prepare(db_, "INSERT INTO blocks VALUES (?, ?, ?, ?, ?, ?, ?, ?)"));
  b.bind_u64(1, h.height).bind(2, block.hash).bind(3, h.prev_hash).bind(4, h.merkle_root);
  b.bind_u64(5, h.time_ms).bind_u64(6, h.tx_count).bind(7, h.proposer).bind(8, block.signature);
  FL_RETURN_IF_ERROR(b.run());
  FL_ASSIGN_OR_RETURN(
      auto t, sql::Statement::prepare(db_, "INSERT INTO txs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  for (std::size_t i = 0; i < txs.size(); ++i) {
    t.bind_u64(1, h.height)
        .bind_u64(2, i)
        .bind(3, hashes[i])
        .bind(4, static_cast<std::int64_t>(txs[i].type()));
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

}  // namespace

Result<std::unique_ptr<BlockStore>> open_sqlite_block_store(const fs::path& db,
                                                            StoreAccess access) {
  return SqliteBlockStore::open(db, access);
}

Result<Block> to_block(const BlockRecord& row) {
  const std::string at = "block " + std::to_string(row.height);
  Block b;
  b.header.height = row.height;
  b.header.time_ms = row.time_ms;
  b.header.tx_count = row.tx_count;
  FL_ASSIGN_OR_RETURN(b.hash, sql::fixed_blob<32>(row.hash, at + " hash"));
  FL_ASSIGN_OR_RETURN(b.header.prev_hash,
                      sql::fixed_blob<32>(row.prev_hash, at + " previous hash"));
  FL_ASSIGN_OR_RETURN(b.header.merkle_root,
                      sql::fixed_blob<32>(row.merkle_root, at + " merkle root"));
  FL_ASSIGN_OR_RETURN(b.header.proposer, sql::fixed_blob<32>(row.proposer, at + " proposer"));
  FL_ASSIGN_OR_RETURN(b.signature, sql::fixed_blob<64>(row.signature, at + " signature"));
  return b;
}

Result<Transaction> to_transaction(const TxRecord& row) {
  const std::string at = where(row.height, row.index);
  FL_ASSIGN_OR_RETURN(auto sig, sql::fixed_blob<64>(row.signature, at + " signature"));
  auto tx = decode(row.body, sig);
  if (!tx.ok()) return with_context(tx.error(), at);
  return tx;
}

}  // namespace fl::ledger
