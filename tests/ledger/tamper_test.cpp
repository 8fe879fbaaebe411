// Someone with write access to the database file edits it with the sqlite3 C API (dropping
// the append-only triggers first); verify_ledger() must catch each edit and name the place.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

class TamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_ledger(db_, 4);  // blocks 0..4; each round block: [4 regs]? job? round, 3 mints
    auto report = verify_ledger(db_);
    ASSERT_TRUE(report.ok() && report->ok);
    ASSERT_EQ(sqlite3_open(db_.c_str(), &raw_), SQLITE_OK);
    exec("DROP TRIGGER blocks_no_update; DROP TRIGGER blocks_no_delete;"
         "DROP TRIGGER txs_no_update; DROP TRIGGER txs_no_delete;");
  }
  void TearDown() override { sqlite3_close(raw_); }

  void exec(const std::string& sql) {
    char* msg = nullptr;
    ASSERT_EQ(sqlite3_exec(raw_, sql.c_str(), nullptr, nullptr, &msg), SQLITE_OK) << (msg ? msg : "");
  }
  std::vector<std::uint8_t> blob(const std::string& sql) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(raw_, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    std::vector<std::uint8_t> out;
    if (sqlite3_step(st) == SQLITE_ROW) {
      const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
      out.assign(p, p + sqlite3_column_bytes(st, 0));
    }
    sqlite3_finalize(st);
    return out;
  }
  void set_blob(const std::string& sql, const std::vector<std::uint8_t>& value) {
    sqlite3_stmt* st = nullptr;
    ASSERT_EQ(sqlite3_prepare_v2(raw_, sql.c_str(), -1, &st, nullptr), SQLITE_OK);
    sqlite3_bind_blob(st, 1, value.data(), static_cast<int>(value.size()), SQLITE_TRANSIENT);
    ASSERT_EQ(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
  }
  VerifyFailure expect_failure() {
    auto report = verify_ledger(db_);
    EXPECT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_FALSE(report->ok);
    EXPECT_TRUE(report->failure.has_value());
    return report->failure.value_or(VerifyFailure{});
  }

  test::TempDir dir_{"fl-tamper"};
  std::filesystem::path db_ = dir_ / "ledger.db";
  sqlite3* raw_ = nullptr;
};

// Block 3 holds: round result (idx 0), then mints to the three workers (idx 1..3).
TEST_F(TamperTest, ChangedAmountByteInASignedBodyIsCaught) {
  auto body = blob("SELECT body FROM txs WHERE height = 3 AND idx = 2");
  ASSERT_FALSE(body.empty());
  body[body.size() - 8] ^= 0x01;  // lowest byte of the amount
  set_blob("UPDATE txs SET body = ? WHERE height = 3 AND idx = 2", body);
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 3u);
  EXPECT_EQ(f.tx_index, 2u);
  EXPECT_NE(f.problem.find("amount column"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, ChangedAmountInBodyAndColumnTogetherFailsTheSignature) {
  auto body = blob("SELECT body FROM txs WHERE height = 3 AND idx = 2");
  body[body.size() - 8] ^= 0x01;
  set_blob("UPDATE txs SET body = ? WHERE height = 3 AND idx = 2", body);
  exec("UPDATE txs SET amount = (amount | 1) - (amount & 1) WHERE height = 3 AND idx = 2");  // amount XOR 1
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 3u);
  EXPECT_EQ(f.tx_index, 2u);
  EXPECT_NE(f.problem.find("signature"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, ChangedAmountColumnIsCaught) {
  exec("UPDATE txs SET amount = amount + 1 WHERE height = 2 AND idx = 1");
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 2u);
  EXPECT_EQ(f.tx_index, 1u);
  EXPECT_NE(f.problem.find("amount"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, ChangedTransactionSignatureIsCaught) {
  auto sig = blob("SELECT signature FROM txs WHERE height = 4 AND idx = 0");
  sig[17] ^= 0x80;
  set_blob("UPDATE txs SET signature = ? WHERE height = 4 AND idx = 0", sig);
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 4u);
  EXPECT_EQ(f.tx_index, 0u);
  EXPECT_NE(f.problem.find("signature"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, ChangedBlockHashIsCaught) {
  auto hash = blob("SELECT hash FROM blocks WHERE height = 2");
  hash[0] ^= 0x01;
  set_blob("UPDATE blocks SET hash = ? WHERE height = 2", hash);
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 2u);
  EXPECT_FALSE(f.tx_index.has_value());
  EXPECT_NE(f.problem.find("hash"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, DeletedLastTransactionIsCaught) {
  exec("DELETE FROM txs WHERE height = 3 AND idx = 3");
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 3u);
  EXPECT_NE(f.problem.find("header says 4"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, DeletedMiddleTransactionIsCaught) {
  exec("DELETE FROM txs WHERE height = 1 AND idx = 2");
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 1u);
  EXPECT_EQ(f.tx_index, 2u);
  EXPECT_NE(f.problem.find("missing"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, DeletedBlockIsCaught) {
  exec("DELETE FROM txs WHERE height = 2; DELETE FROM blocks WHERE height = 2");
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 2u);
  EXPECT_NE(f.problem.find("missing"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, ReorderedBlocksAreCaught) {
  // Swap blocks 2 and 3 together with their transactions, as a consistent-looking reorder.
  exec("UPDATE blocks SET height = -1 WHERE height = 2; UPDATE blocks SET height = 2 WHERE height = 3;"
       "UPDATE blocks SET height = 3 WHERE height = -1;"
       "UPDATE txs SET height = -1 WHERE height = 2; UPDATE txs SET height = 2 WHERE height = 3;"
       "UPDATE txs SET height = 3 WHERE height = -1;");
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 2u);
  EXPECT_NE(f.problem.find("hash"), std::string::npos) << f.to_string();
}

TEST_F(TamperTest, ReplayedTransactionCopiedIntoALaterBlockIsCaught) {
  // Copy block 4's first mint into block 4 again as a fifth transaction (a replay).
  exec("INSERT INTO txs SELECT height, 4, hash, type, issuer, nonce, amount, body, signature FROM txs "
       "WHERE height = 4 AND idx = 1");
  const auto f = expect_failure();
  EXPECT_EQ(f.height, 4u);
}

TEST_F(TamperTest, UntouchedLedgerVerifies) {
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok);
  EXPECT_EQ(report->blocks, 5u);
  EXPECT_EQ(report->minted, 4000u);
}

}  // namespace
}  // namespace fl::ledger
