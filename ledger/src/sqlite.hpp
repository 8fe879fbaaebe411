// Thin RAII over the SQLite C API for the ledger: a connection, prepared statements, and a
// write transaction that rolls back unless committed. Every failure becomes an fl::Error that
// names the SQL step and SQLite's message.
#pragma once

#include <sqlite3.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fl/common/result.hpp"

namespace fl::ledger::sql {

class Database {
 public:
  // kImmutable: read-only and without locks or -wal/-shm files, for a file no process has open
  // for writing (SQLite's immutable=1 URI parameter).
  enum class Mode { kReadWrite, kReadOnly, kImmutable };
  static Result<Database> open(const std::filesystem::path& path, Mode mode);
  Database() = default;
  Database(Database&& o) noexcept : db_(o.db_), path_(std::move(o.path_)) { o.db_ = nullptr; }
  Database& operator=(Database&& o) noexcept;
  Database(const Database&) = delete;
  Database& operator=(const Database&) = delete;
  ~Database();

  sqlite3* handle() const { return db_; }
  const std::filesystem::path& path() const { return path_; }
  Status exec(std::string_view sql);
  Error error(std::string_view what) const;

 private:
  sqlite3* db_ = nullptr;
  std::filesystem::path path_;
};

class Statement {
 public:
  static Result<Statement> prepare(const Database& db, std::string_view sql);
  Statement(Statement&& o) noexcept : stmt_(o.stmt_), db_(o.db_) { o.stmt_ = nullptr; }
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;
  ~Statement();

  Statement& bind(int index, std::int64_t v);
  Statement& bind_u64(int index, std::uint64_t v) { return bind(index, static_cast<std::int64_t>(v)); }
  Statement& bind(int index, std::span<const std::uint8_t> blob);
  Statement& bind_text(int index, std::string_view text);
  Statement& bind_null(int index);
  // true: a row is ready; false: done. Errors name the statement.
  Result<bool> step();
  Status run();  // steps to completion, then resets
  void reset();

  std::int64_t column_int(int i) const { return sqlite3_column_int64(stmt_, i); }
  std::uint64_t column_u64(int i) const { return static_cast<std::uint64_t>(column_int(i)); }
  bool column_is_null(int i) const { return sqlite3_column_type(stmt_, i) == SQLITE_NULL; }
  std::vector<std::uint8_t> column_blob(int i) const;
  std::string column_text(int i) const;

 private:
  Statement(sqlite3_stmt* s, sqlite3* db) : stmt_(s), db_(db) {}
  sqlite3_stmt* stmt_ = nullptr;
  sqlite3* db_ = nullptr;
};

// BEGIN IMMEDIATE (or a deferred read transaction); rolls back on destruction unless commit()ed.
class Transaction {
 public:
  static Result<Transaction> begin_write(Database& db);
  static Result<Transaction> begin_read(Database& db);
  Transaction(Transaction&& o) noexcept : db_(o.db_), open_(o.open_) { o.open_ = false; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  ~Transaction();
  Status commit();

 private:
  explicit Transaction(Database& db) : db_(&db), open_(true) {}
  Database* db_;
  bool open_;
};

// Copies a blob column of exactly N bytes; an error names `what` otherwise.
template <std::size_t N>
Result<std::array<std::uint8_t, N>> fixed_blob(const std::vector<std::uint8_t>& blob, std::string_view what) {
  if (blob.size() != N) {
    return make_error(ErrorCode::kCorrupt, std::string(what) + " has " + std::to_string(blob.size()) +
                                               " bytes, expected " + std::to_string(N));
  }
  std::array<std::uint8_t, N> out{};
  std::copy(blob.begin(), blob.end(), out.begin());
  return out;
}

}  // namespace fl::ledger::sql
