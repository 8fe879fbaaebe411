// The BlockStore seam: the SQLite store's reads, compare-and-append, and how it refuses files
// that are not ledgers; a Ledger over a store another writer appends to.
#include "fl/ledger/block_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>
#include <cstdlib>

#include "ledger_fixture.hpp"
#include "memory_block_store.hpp"
#include "replay.hpp"

namespace fl::ledger {
namespace {

namespace fs = std::filesystem;

class BlockStoreTest : public ::testing::Test {
 protected:
  test::TempDir dir_{"fl-block-store"};
  fs::path db_ = dir_ / "ledger.db";
};

TEST_F(BlockStoreTest, ReadsEveryBlockAndTransactionFromAHeight) {
  test::make_ledger(db_, 2);
  auto store = open_sqlite_block_store(db_, StoreAccess::kReadOnly);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  EXPECT_EQ((*store)->block_count().value(), 3u);
  const auto head = (*store)->head().value();
  ASSERT_TRUE(head.has_value());
  EXPECT_EQ(head->height, 2u);
  const auto from_two = (*store)->read_from(2).value();
  ASSERT_EQ(from_two.blocks.size(), 1u);
  EXPECT_EQ(from_two.txs.size(), from_two.blocks[0].tx_count);
  for (const auto& tx : from_two.txs) EXPECT_EQ(tx.height, 2u);
}

TEST_F(BlockStoreTest, AppendAtAStaleHeightIsRefusedAsAlreadyExists) {
  auto led = test::make_ledger(db_, 1);
  auto store = open_sqlite_block_store(db_, StoreAccess::kReadWrite).value();
  BlockHeader header;
  header.height = 1;  // the ledger already holds blocks 0 and 1
  header.proposer = test::authority_key().public_key;
  auto st = store->append(seal_block(header, test::authority_key()), {}, {}, {});
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, ErrorCode::kAlreadyExists);
  EXPECT_EQ(store->block_count().value(), 2u);
}

TEST_F(BlockStoreTest, LedgerCatchesUpWithBlocksAnotherWriterAppended) {
  auto first = test::make_ledger(db_, 1);
  auto second = Ledger::open(db_).value();
  ASSERT_TRUE(first
                  ->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                                 {}, test::round_record(2, {0}, {1.0}))
                  .ok());
  // `second` still believes block 2 is next; its append must catch up and land at height 3.
  auto receipts = second->record_round(test::authority_key(), test::researcher_key(),
                                       test::job_record(), {}, test::round_record(3, {1}, {1.0}));
  ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  EXPECT_EQ((*receipts)[0].block_height, 3u);
  EXPECT_TRUE(verify_ledger(db_).value().ok);
}

TEST_F(BlockStoreTest, LedgerRunsOverAnyBlockStore) {
  auto store = std::make_unique<test::MemoryBlockStore>();
  auto* memory = store.get();
  auto led = Ledger::open(std::move(store)).value();
  ASSERT_TRUE(led->initialize(test::authority_key()).ok());
  for (std::uint64_t round = 1; round <= 2; ++round) {
    ASSERT_TRUE(led->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                                  test::registrations(3),
                                  test::round_record(round, {0, 1}, {0.5, 0.5}))
                    .ok());
  }
  EXPECT_EQ(memory->appends(), 3);
  EXPECT_EQ(led->last_round("job-1")->round, 2u);
  ReplayCursor cursor;  // what it stored passes every check `verify` makes
  EXPECT_FALSE(
      replay_chain(cursor, memory->records(), ReplayOptions{.check_integrity = true}).has_value());
  EXPECT_EQ(cursor.state.minted(), 2000u);
}

TEST_F(BlockStoreTest, ReadOnlyOpenOfAMissingFileFailsAndCreatesNothing) {
  auto store = open_sqlite_block_store(db_, StoreAccess::kReadOnly);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.error().code, ErrorCode::kNotFound);
  EXPECT_NE(store.error().message.find(db_.string()), std::string::npos);
  EXPECT_TRUE(fs::is_empty(dir_.path()));
}

TEST_F(BlockStoreTest, ADirectoryIsNamedAsOne) {
  for (auto access : {StoreAccess::kReadOnly, StoreAccess::kReadWrite}) {
    auto store = open_sqlite_block_store(dir_.path(), access);
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("is a directory"), std::string::npos)
        << store.error().message;
  }
}

TEST_F(BlockStoreTest, AFileThatIsNotSQLiteIsNotALedgerAndIsLeftAlone) {
  test::write_file(db_, "job_id = \"mnist\"\nrounds = 3\n");
  for (auto access : {StoreAccess::kReadOnly, StoreAccess::kReadWrite}) {
    auto store = open_sqlite_block_store(db_, access);
    ASSERT_FALSE(store.ok());
    EXPECT_NE(store.error().message.find("is not a FedLedger ledger"), std::string::npos)
        << store.error().message;
  }
  EXPECT_EQ(test::read_file(db_), "job_id = \"mnist\"\nrounds = 3\n");
}

TEST_F(BlockStoreTest, ReadOnlyOpenOfAnEmptyFileSuggestsTheMissingWriteAheadLog) {
  test::write_file(db_, "");
  auto store = open_sqlite_block_store(db_, StoreAccess::kReadOnly);
  ASSERT_FALSE(store.ok());
  EXPECT_NE(store.error().message.find("ledger.db-wal"), std::string::npos)
      << store.error().message;
}

TEST_F(BlockStoreTest, ReadOnlyOpenCreatesNoFilesBesideTheLedger) {
  test::make_ledger(db_, 1);
  std::size_t before = 0, after = 0;
  for (const auto& e : fs::directory_iterator(dir_.path())) before += e.is_regular_file();
  {
    auto store = open_sqlite_block_store(db_, StoreAccess::kReadOnly);
    ASSERT_TRUE(store.ok()) << store.error().to_string();
    ASSERT_TRUE((*store)->read_from(0).ok());
  }
  for (const auto& e : fs::directory_iterator(dir_.path())) after += e.is_regular_file();
  EXPECT_EQ(after, before);
}

// The ledger is open for writing in this process while the same file is opened again here (as
// the coordinator's dashboard reads its own ledger.db) and then by another process that writes
// and closes: the writer's -wal file must survive, and its later blocks must reach the file. A
// plain descriptor closed in this process would drop its locks and let the other process delete
// the -wal under the writer.
// The other process of the test above: opens FL_TEST_OPEN_RW read-write, reads, closes.
TEST(BlockStoreHelper, OpensTheFileReadWriteAndClosesIt) {
  const char* path = std::getenv("FL_TEST_OPEN_RW");
  if (path == nullptr) GTEST_SKIP() << "run by ReopeningTheFileInTheWritingProcessKeepsItsWriteAheadLogSafe";
  sqlite3* other = nullptr;
  ASSERT_EQ(sqlite3_open_v2(path, &other, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  EXPECT_EQ(sqlite3_exec(other, "SELECT count(*) FROM blocks", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(other);
}

TEST_F(BlockStoreTest, ReopeningTheFileInTheWritingProcessKeepsItsWriteAheadLogSafe) {
  auto led = test::make_ledger(db_, 1);
  for (int i = 0; i < 2; ++i) {  // as the dashboard does, once a request
    auto again = open_sqlite_block_store(db_, StoreAccess::kReadOnly);
    ASSERT_TRUE(again.ok()) << again.error().to_string();
    ASSERT_TRUE((*again)->read_from(0).ok());
  }
  // Another process (this test binary again, running the helper below) opens it read-write.
  const std::string self = fs::read_symlink("/proc/self/exe").string();
  const std::string command = "FL_TEST_OPEN_RW='" + db_.string() + "' '" + self +
                              "' --gtest_filter=BlockStoreHelper.* > /dev/null 2>&1";
  ASSERT_EQ(std::system(command.c_str()), 0);
  EXPECT_TRUE(fs::exists(db_.string() + "-wal"));
  auto receipts = led->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                                    test::registrations(4), test::round_record(2, {0, 1, 2}, {0.9, 0.6, 0.3}, {3}));
  ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  auto reader = open_sqlite_block_store(db_, StoreAccess::kReadOnly);
  ASSERT_TRUE(reader.ok()) << reader.error().to_string();
  EXPECT_EQ((*reader)->block_count().value(), led->block_count());
}

}  // namespace
}  // namespace fl::ledger
