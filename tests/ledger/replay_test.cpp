// Chain replay, the one function behind the Ledger's catch-up, the queries and `verify`: rules
// always, hashes and signatures on request, the first failure named by height and index.
#include "replay.hpp"

#include <gtest/gtest.h>

#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

class ReplayTest : public ::testing::Test {
 protected:
  void SetUp() override {
    test::make_ledger(db_, 3);
    records_ = open_sqlite_block_store(db_, StoreAccess::kReadOnly).value()->read_from(0).value();
  }
  // The record of block `height`'s transaction `index`.
  TxRecord& tx(std::uint64_t height, std::uint64_t index) {
    for (auto& t : records_.txs) {
      if (t.height == height && t.index == index) return t;
    }
    throw std::logic_error("no such transaction record");
  }

  test::TempDir dir_{"fl-replay"};
  std::filesystem::path db_ = dir_ / "ledger.db";
  ChainRecords records_;
};

TEST_F(ReplayTest, RulesOnlyAndFullChecksAgreeOnASoundChain) {
  ReplayCursor fast, full;
  ASSERT_FALSE(replay_chain(fast, records_, ReplayOptions{}).has_value());
  ASSERT_FALSE(replay_chain(full, records_, ReplayOptions{.check_integrity = true}).has_value());
  EXPECT_EQ(fast.block_count, 4u);
  EXPECT_EQ(fast.head_hash, full.head_hash);
  EXPECT_EQ(fast.state.minted(), full.state.minted());
  EXPECT_EQ(fast.signatures_checked, 0u);
  EXPECT_GT(full.signatures_checked, full.transactions);  // every transaction and block
}

TEST_F(ReplayTest, ContinuesFromACursor) {
  ChainRecords first = records_, rest = records_;
  std::erase_if(first.blocks, [](const BlockRecord& b) { return b.height >= 2; });
  std::erase_if(first.txs, [](const TxRecord& t) { return t.height >= 2; });
  std::erase_if(rest.blocks, [](const BlockRecord& b) { return b.height < 2; });
  std::erase_if(rest.txs, [](const TxRecord& t) { return t.height < 2; });
  ReplayCursor cursor;
  ASSERT_FALSE(replay_chain(cursor, first, ReplayOptions{}).has_value());
  EXPECT_EQ(cursor.block_count, 2u);
  ASSERT_FALSE(replay_chain(cursor, rest, ReplayOptions{}).has_value());
  EXPECT_EQ(cursor.block_count, 4u);
  EXPECT_EQ(cursor.state.minted(), 3000u);
}

TEST_F(ReplayTest, AForgedSignatureIsFoundOnlyWhenAskedFor) {
  tx(2, 0).signature[5] ^= 1;  // the round result of round 2; its hash column now disagrees too
  ReplayCursor fast, full;
  EXPECT_FALSE(replay_chain(fast, records_, ReplayOptions{}).has_value());
  const auto failure = replay_chain(full, records_, ReplayOptions{.check_integrity = true});
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->at.height, 2u);
  EXPECT_EQ(failure->at.tx_index, 0u);
  EXPECT_NE(failure->at.problem.find("signature"), std::string::npos) << failure->at.to_string();
}

TEST_F(ReplayTest, ABrokenRuleIsAlwaysFoundWithItsHeightAndIndex) {
  std::erase_if(records_.txs,
                [](const TxRecord& t) { return t.height == 3 && t.index == 2; });  // the last mint
  ReplayCursor cursor;
  const auto failure = replay_chain(cursor, records_, ReplayOptions{});
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->at.height, 3u);
  EXPECT_EQ(cursor.block_count, 3u);  // the blocks before it replayed
  const Error e = failure->to_error("ledger.db", "run `fl-ledger verify`");
  EXPECT_EQ(e.message.rfind("ledger.db: block 3", 0), 0u) << e.message;
}

TEST_F(ReplayTest, AnOrphanTransactionIsNamed) {
  TxRecord orphan = tx(1, 0);
  orphan.height = 9;
  records_.txs.push_back(orphan);
  ReplayCursor cursor;
  const auto failure = replay_chain(cursor, records_, ReplayOptions{});
  ASSERT_TRUE(failure.has_value());
  EXPECT_EQ(failure->at.height, 9u);
  EXPECT_NE(failure->at.problem.find("belongs to no block"), std::string::npos);
}

}  // namespace
}  // namespace fl::ledger
