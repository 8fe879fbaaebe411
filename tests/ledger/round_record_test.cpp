// What the coordinator reads back from the ledger and hands on: the last recorded round of a
// job (for resuming), receipts that are common::Receipts, the entry built from an update
// header, and the scorer's name in the round result.
#include <gtest/gtest.h>

#include "fl/common/merkle.hpp"
#include "fl/ledger/queries.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

class RoundRecordTest : public ::testing::Test {
 protected:
  test::TempDir dir_{"fl-round-record"};
  std::filesystem::path db_ = dir_ / "ledger.db";
};

TEST_F(RoundRecordTest, LastRoundIsNoneForAJobWithoutRounds) {
  auto led = test::make_ledger(db_, 0);
  EXPECT_FALSE(led->last_round("job-1").has_value());
}

TEST_F(RoundRecordTest, LastRoundNamesTheNewestRoundItsModelAndBlock) {
  auto led = test::make_ledger(db_, 3);
  const auto last = led->last_round("job-1");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->round, 3u);
  EXPECT_EQ(last->model_digest, test::round_record(3, {}, {}).model_digest);
  EXPECT_EQ(last->height, 3u);
  EXPECT_FALSE(led->last_round("job-2").has_value());
}

TEST_F(RoundRecordTest, LastRoundSurvivesReopeningTheLedger) {
  test::make_ledger(db_, 2);
  auto reopened = Ledger::open(db_).value();
  const auto last = reopened->last_round("job-1");
  ASSERT_TRUE(last.has_value());
  EXPECT_EQ(last->round, 2u);
  EXPECT_EQ(last->height, 2u);
}

TEST_F(RoundRecordTest, ReceiptIsACommonReceiptForItsWorker) {
  auto led = test::make_ledger(db_, 0);
  auto receipts =
      led->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                        test::registrations(4), test::round_record(1, {2, 0}, {0.5, 0.5}));
  ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  ASSERT_EQ(receipts->size(), 2u);
  EXPECT_EQ((*receipts)[0].worker, test::worker_key(2).public_key);
  const common::Receipt& wire = (*receipts)[0];  // what the coordinator sends in its ack
  EXPECT_TRUE(common::verify_inclusion(wire.tx_hash, wire.leaf_index, wire.tree_size, wire.proof,
                                       wire.merkle_root));
  EXPECT_EQ(wire.reward, 500u);
}

TEST_F(RoundRecordTest, AcceptedEntryTakesWorkerAndSampleCountFromTheUpdateHeader) {
  common::UpdateHeader header;
  header.worker_key = test::worker_key(1).public_key;
  header.num_samples = 640;
  const auto digest = test::digest_of_text("update");
  const AcceptedEntry entry = accepted_entry(header, digest, 0.25);
  EXPECT_EQ(entry.worker, header.worker_key);
  EXPECT_EQ(entry.update_digest, digest);
  EXPECT_EQ(entry.score, 0.25);
  EXPECT_EQ(entry.num_samples, 640u);
}

TEST_F(RoundRecordTest, ScorerIsRecordedAndShownByTheRoundQueries) {
  test::make_ledger(db_, 2);
  auto chain = load_chain(db_);
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  const auto rounds = rounds_of(*chain, "job-1");
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[1].scorer, "cosine");
  EXPECT_TRUE(verify_ledger(db_).value().ok);
}

}  // namespace
}  // namespace fl::ledger
