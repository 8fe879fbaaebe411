// Builders for witness tests: witness keys, a witness with a fresh view, and
// the two edits an attacker with write access to a SQLite ledger makes (with
// the append-only triggers dropped): rewinding the head by deleting the newest
// blocks, and rewriting a block in place.
#pragma once

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <string>

#include "fl/ledger/block_store.hpp"
#include "fl/ledger/witness.hpp"
#include "ledger_fixture.hpp"

namespace fl::test {

inline common::KeyPair witness_key(int i) {
  return common::key_pair_from_label("witness-" + std::to_string(i));
}

// Runs `sql` on the ledger file with the append-only triggers dropped.
inline void edit_ledger(const std::filesystem::path& db, const std::string& sql) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db.c_str(), &raw), SQLITE_OK);
  const std::string all =
      "DROP TRIGGER IF EXISTS blocks_no_update; DROP "
      "TRIGGER IF EXISTS blocks_no_delete;"
      "DROP TRIGGER IF EXISTS txs_no_update; DROP TRIGGER "
      "IF EXISTS txs_no_delete;" +
      sql;
  char* msg = nullptr;
  const int rc = sqlite3_exec(raw, all.c_str(), nullptr, nullptr, &msg);
  const std::string text = msg ? msg : "";
  sqlite3_free(msg);
  sqlite3_close(raw);
  ASSERT_EQ(rc, SQLITE_OK) << text;
}

// Deletes every block above `height` and its transactions.
inline void rewind_ledger(const std::filesystem::path& db, std::uint64_t height) {
  const std::string h = std::to_string(height);
  edit_ledger(
      db, "DELETE FROM txs WHERE height > " + h + "; DELETE FROM blocks WHERE height > " + h + ";");
}

inline std::unique_ptr<ledger::BlockStore> read_store(const std::filesystem::path& db) {
  auto store = ledger::open_sqlite_block_store(db, ledger::StoreAccess::kReadOnly);
  EXPECT_TRUE(store.ok()) << store.error().to_string();
  return std::move(store).value();
}

inline ledger::Witness fresh_witness(const std::filesystem::path& dir, const common::KeyPair& key) {
  auto st = ledger::Witness::init(dir, key.public_key);
  EXPECT_TRUE(st.ok()) << st.error().to_string();
  auto w = ledger::Witness::open(dir, key);
  EXPECT_TRUE(w.ok()) << w.error().to_string();
  return std::move(w).value();
}

// Cosigns the store's head and expects the witness to agree.
inline common::CosignedCheckpoint cosigned_by(ledger::Witness& w, const ledger::BlockStore& store) {
  auto out = w.cosign(store);
  EXPECT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_TRUE(out->verdict.ok()) << out->verdict.error().to_string();
  return out->cosigned.value_or(common::CosignedCheckpoint{});
}

// Records rounds first..last of job-1 on the ledger file (blocks after the
// newest).
inline void add_rounds(const std::filesystem::path& db, int first, int last, double score = 0.9) {
  auto led = ledger::Ledger::open(db);
  ASSERT_TRUE(led.ok()) << led.error().to_string();
  for (int r = first; r <= last; ++r) {
    auto receipts = (*led)->record_round(authority_key(), researcher_key(), job_record(), {},
                                         round_record(r, {0, 1, 2}, {score, 0.6, 0.3}, {3}));
    ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  }
}

}  // namespace fl::test
