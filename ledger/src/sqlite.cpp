#include "sqlite.hpp"

namespace fl::ledger::sql {

namespace {

std::string immutable_uri(const std::filesystem::path& path) {
  std::string uri = "file:";
  for (char c : path.string()) {
    if (c == '%' || c == '?' || c == '#') {
      static constexpr char kHex[] = "0123456789ABCDEF";
      uri += '%';
      uri += kHex[(static_cast<unsigned char>(c) >> 4) & 0xF];
      uri += kHex[static_cast<unsigned char>(c) & 0xF];
    } else {
      uri += c;
    }
  }
  return uri + "?immutable=1";
}

// What a statement was doing, in words: users see this, never the SQL text.
std::string activity(std::string_view sql) {
  auto starts = [&](std::string_view word) { return sql.substr(0, word.size()) == word; };
  if (starts("SELECT")) return "reading the ledger";
  if (starts("INSERT")) return "writing a block";
  if (starts("BEGIN")) return "starting a transaction";
  if (starts("COMMIT")) return "committing a block";
  if (starts("ROLLBACK")) return "rolling back";
  if (starts("PRAGMA")) return "configuring the database";
  if (starts("CREATE") || starts("\nCREATE")) return "creating the ledger tables";
  return "updating the ledger";
}

ErrorCode error_code(int rc) {
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return ErrorCode::kCorrupt;
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return ErrorCode::kUnavailable;
    default: return ErrorCode::kIo;
  }
}

// SQLite's reason, plus what to do where there is something to do.
std::string reason(int rc, const char* message) {
  std::string text = message ? message : sqlite3_errstr(rc);
  switch (rc & 0xFF) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB: return text + " (the file is damaged or not a ledger; use an intact copy)";
    case SQLITE_BUSY:
    case SQLITE_LOCKED: return text + " (another process holds the ledger; try again)";
    case SQLITE_READONLY: return text + " (the file or its folder is not writable)";
    case SQLITE_FULL: return text + " (free disk space)";
    default: return text;
  }
}

}  // namespace

Result<Database> Database::open(const std::filesystem::path& path, Mode mode) {
  Database db;
  db.path_ = path;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE;
  std::string name = path.string();
  if (mode != Mode::kReadWrite) {
    if (!std::filesystem::exists(path)) {
      return make_error(ErrorCode::kNotFound, "ledger database " + path.string() + " does not exist");
    }
    flags = SQLITE_OPEN_READONLY;
    if (mode == Mode::kImmutable) {
      flags |= SQLITE_OPEN_URI;
      name = immutable_uri(path);
    }
  }
  const int rc = sqlite3_open_v2(name.c_str(), &db.db_, flags | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    Error e = make_error(ErrorCode::kIo, "cannot open ledger database " + path.string() + ": " +
                                             (db.db_ ? sqlite3_errmsg(db.db_) : sqlite3_errstr(rc)));
    return e;
  }
  sqlite3_extended_result_codes(db.db_, 1);
  sqlite3_busy_timeout(db.db_, 10000);  // another process may hold the write lock briefly
  return db;
}

Database& Database::operator=(Database&& o) noexcept {
  if (this != &o) {
    if (db_) sqlite3_close_v2(db_);
    db_ = o.db_;
    path_ = std::move(o.path_);
    o.db_ = nullptr;
  }
  return *this;
}

Database::~Database() {
  if (db_) sqlite3_close_v2(db_);
}

Error Database::error(std::string_view what) const {
  const int code = sqlite3_errcode(db_);
  return make_error(error_code(code), path_.string() + ": " + std::string(what) + ": " + reason(code, sqlite3_errmsg(db_)));
}

Status Database::exec(std::string_view sql) {
  char* msg = nullptr;
  const std::string s(sql);
  if (const int rc = sqlite3_exec(db_, s.c_str(), nullptr, nullptr, &msg); rc != SQLITE_OK) {
    std::string text = reason(rc, msg);
    sqlite3_free(msg);
    return make_error(error_code(rc), path_.string() + ": " + activity(s) + ": " + text);
  }
  return ok_status();
}

Result<Statement> Statement::prepare(const Database& db, std::string_view sql) {
  sqlite3_stmt* s = nullptr;
  if (sqlite3_prepare_v2(db.handle(), sql.data(), static_cast<int>(sql.size()), &s, nullptr) != SQLITE_OK) {
    return db.error(activity(sql));
  }
  return Statement(s, db.handle());
}

Statement::~Statement() {
  if (stmt_) sqlite3_finalize(stmt_);
}

Statement& Statement::bind(int index, std::int64_t v) {
  sqlite3_bind_int64(stmt_, index, v);
  return *this;
}
Statement& Statement::bind(int index, std::span<const std::uint8_t> blob) {
  sqlite3_bind_blob64(stmt_, index, blob.data(), blob.size(), SQLITE_TRANSIENT);
  return *this;
}
Statement& Statement::bind_text(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}
Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  const char* sql = sqlite3_sql(stmt_);
  const char* file = sqlite3_db_filename(db_, "main");
  Error e = make_error(error_code(rc), std::string(file ? file : "ledger") + ": " + activity(sql ? sql : "") + ": " +
                                           reason(rc, sqlite3_errmsg(db_)));
  sqlite3_reset(stmt_);
  return e;
}

Status Statement::run() {
  while (true) {
    FL_ASSIGN_OR_RETURN(bool row, step());
    if (!row) break;
  }
  reset();
  return ok_status();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

std::vector<std::uint8_t> Statement::column_blob(int i) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, i));
  const int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::vector<std::uint8_t>(p, p + n) : std::vector<std::uint8_t>{};
}

std::string Statement::column_text(int i) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, i));
  return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(stmt_, i))) : std::string{};
}

Result<Transaction> Transaction::begin_write(Database& db) {
  FL_RETURN_IF_ERROR(db.exec("BEGIN IMMEDIATE"));
  return Transaction(db);
}

Result<Transaction> Transaction::begin_read(Database& db) {
  FL_RETURN_IF_ERROR(db.exec("BEGIN"));
  return Transaction(db);
}

Transaction::~Transaction() {
  if (open_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  FL_RETURN_IF_ERROR(db_->exec("COMMIT"));
  open_ = false;
  return ok_status();
}

}  // namespace fl::ledger::sql
