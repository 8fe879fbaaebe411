// Witnesses over real SQLite ledger files: they cosign a growing chain, refuse
// a rewritten block or a rewound head (naming the heights, with a proof of
// misbehaviour that verifies), remember what they cosigned across restarts, and
// never release a signature they could not write down first.
#include "fl/ledger/witness.hpp"

#include <gtest/gtest.h>

#include "fl/common/checkpoint.hpp"
#include "fl/common/checkpoint_keeper.hpp"
#include "fl/ledger/checkpoint.hpp"
#include "witness_fixture.hpp"

namespace fl::ledger {
namespace {

using test::witness_key;

class WitnessTest : public ::testing::Test {
 protected:
  void SetUp() override { test::make_ledger(db_, 3); }  // blocks 0..3

  std::vector<common::PublicKey> keys(std::initializer_list<int> ids) {
    std::vector<common::PublicKey> out;
    for (int i : ids) out.push_back(witness_key(i).public_key);
    return out;
  }

  test::TempDir dir_{"fl-witness"};
  std::filesystem::path db_ = dir_ / "ledger.db";
  std::filesystem::path view_ = dir_ / "witness-1";
};

TEST_F(WitnessTest, CosignsAGrowingChainAtEachNewHead) {
  auto w = test::fresh_witness(view_, witness_key(1));
  const auto first = test::cosigned_by(w, *test::read_store(db_));
  EXPECT_EQ(first.checkpoint.height, 3u);
  EXPECT_TRUE(common::verify_cosigned(first, keys({1}), 1).ok());

  test::add_rounds(db_, 4, 5);
  const auto second = test::cosigned_by(w, *test::read_store(db_));
  EXPECT_EQ(second.checkpoint.height, 5u);
  EXPECT_EQ(second.checkpoint.chain_id, first.checkpoint.chain_id);
  EXPECT_GT(second.checkpoint.tree_size, first.checkpoint.tree_size);
  EXPECT_TRUE(common::verify_cosigned(second, keys({1}), 1).ok());

  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_EQ(second.checkpoint.head_hash, report->head_hash);
  EXPECT_EQ(second.checkpoint.tree_size, report->transactions);
}

TEST_F(WitnessTest, CosigningTheSameHeadTwiceGivesTheSameCheckpoint) {
  auto w = test::fresh_witness(view_, witness_key(1));
  const auto a = test::cosigned_by(w, *test::read_store(db_));
  const auto b = test::cosigned_by(w, *test::read_store(db_));
  EXPECT_EQ(a.checkpoint, b.checkpoint);
  ASSERT_EQ(b.cosignatures.size(), 1u);
  EXPECT_EQ(a.cosignatures[0].signature, b.cosignatures[0].signature);
}

TEST_F(WitnessTest, RefusesAChainWithABlockRewrittenInPlaceNamingItsHeight) {
  auto w = test::fresh_witness(view_, witness_key(1));
  test::cosigned_by(w, *test::read_store(db_));
  test::edit_ledger(db_, "UPDATE blocks SET time_ms = time_ms + 1 WHERE height = 2;");
  auto out = w.cosign(*test::read_store(db_));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_FALSE(out->verdict.ok());
  EXPECT_NE(out->verdict.error().message.find("block 2"), std::string::npos)
      << out->verdict.error().message;
  EXPECT_FALSE(out->cosigned.has_value());
  auto held = w.last_cosigned();
  ASSERT_TRUE(held.ok() && held->has_value());
  EXPECT_EQ((*held)->checkpoint.height, 3u);
}

TEST_F(WitnessTest, RefusesAReSignedForkNamingTheRewrittenHeightWithAProof) {
  auto w = test::fresh_witness(view_, witness_key(1));
  test::cosigned_by(w, *test::read_store(db_));
  // The authority rewrites history from block 2 on and signs the new blocks: a
  // valid chain.
  test::rewind_ledger(db_, 1);
  test::add_rounds(db_, 2, 4, 0.8);
  ASSERT_TRUE(verify_ledger(db_)->ok);

  auto out = w.cosign(*test::read_store(db_));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_FALSE(out->verdict.ok());
  EXPECT_NE(out->verdict.error().message.find("block 2 was rewritten"), std::string::npos)
      << out->verdict.error().message;
  ASSERT_TRUE(out->proof.has_value());
  EXPECT_EQ(out->proof->conflicting.height,
            3u);  // two heads at the height it cosigned
  EXPECT_TRUE(verify_misbehaviour_proof(*out->proof, keys({1}), 1).ok());
}

TEST_F(WitnessTest, RefusesAHeadRewoundByKBlocksWithAProofHoldingBothCheckpoints) {
  test::add_rounds(db_, 4, 5);  // head at 5
  auto w = test::fresh_witness(view_, witness_key(1));
  const auto cosigned = test::cosigned_by(w, *test::read_store(db_));
  test::rewind_ledger(db_, 2);  // the last K = 3 blocks deleted
  ASSERT_TRUE(verify_ledger(db_)->ok);

  auto out = w.cosign(*test::read_store(db_));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_FALSE(out->verdict.ok());
  const auto& why = out->verdict.error().message;
  EXPECT_NE(why.find("from height 5"), std::string::npos) << why;
  EXPECT_NE(why.find("to height 2"), std::string::npos) << why;
  ASSERT_TRUE(out->proof.has_value());
  const auto& proof = *out->proof;
  EXPECT_EQ(proof.cosigned.checkpoint, cosigned.checkpoint);
  EXPECT_EQ(proof.conflicting.height, 2u);
  EXPECT_EQ(proof.conflicting_block.header.height, 2u);
  EXPECT_TRUE(verify_misbehaviour_proof(proof, keys({1}), 1).ok());

  // The proof survives its JSON form; an edited one no longer verifies.
  auto back = misbehaviour_proof_from_json(misbehaviour_proof_json(proof));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_TRUE(verify_misbehaviour_proof(*back, keys({1}), 1).ok());
  back->conflicting_block.header.height = 6;
  EXPECT_FALSE(verify_misbehaviour_proof(*back, keys({1}), 1).ok());
  EXPECT_FALSE(verify_misbehaviour_proof(proof, keys({2}), 1).ok());
}

TEST_F(WitnessTest, RefusesAnotherChainWithoutClaimingAProof) {
  auto w = test::fresh_witness(view_, witness_key(1));
  test::cosigned_by(w, *test::read_store(db_));
  const auto other_db = dir_ / "other.db";
  {
    auto other = Ledger::open(other_db);
    ASSERT_TRUE(other.ok());
    ASSERT_TRUE((*other)->initialize(common::key_pair_from_label("another authority")).ok());
  }
  auto out = w.cosign(*test::read_store(other_db));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  ASSERT_FALSE(out->verdict.ok());
  EXPECT_NE(out->verdict.error().message.find("block 0 was rewritten"), std::string::npos)
      << out->verdict.error().message;
  EXPECT_FALSE(out->proof.has_value());  // two chains, not two heads of one
}

TEST_F(WitnessTest, AWitnessReopenedFromItsViewRefusesAConflictingHead) {
  {
    auto w = test::fresh_witness(view_, witness_key(1));
    test::cosigned_by(w, *test::read_store(db_));
  }
  test::rewind_ledger(db_, 1);
  auto reopened = Witness::open(view_, witness_key(1));
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  auto out = reopened->cosign(*test::read_store(db_));
  ASSERT_TRUE(out.ok()) << out.error().to_string();
  EXPECT_FALSE(out->verdict.ok());
  EXPECT_TRUE(out->proof.has_value());
}

TEST_F(WitnessTest, ReleasesNoSignatureItCouldNotWriteToItsView) {
  auto w = test::fresh_witness(view_, witness_key(1));
  std::filesystem::create_directories(view_ / "witness.json.tmp");  // the write cannot happen
  auto out = w.cosign(*test::read_store(db_));
  EXPECT_FALSE(out.ok());
  std::filesystem::remove(view_ / "witness.json.tmp");
  auto held = w.last_cosigned();
  ASSERT_TRUE(held.ok()) << held.error().to_string();
  EXPECT_FALSE(held->has_value());
}

TEST_F(WitnessTest, NeverResetsAViewAndRefusesAnotherKeysView) {
  test::fresh_witness(view_, witness_key(1));
  auto again = Witness::init(view_, witness_key(1).public_key);
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.error().code, ErrorCode::kAlreadyExists);
  auto other = Witness::open(view_, witness_key(2));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.error().code, ErrorCode::kPrecondition);
}

TEST_F(WitnessTest, RewoundHeadIsCaughtByTheWitnessesAndByAWorkerHoldingALaterCheckpoint) {
  test::add_rounds(db_, 4, 5);
  common::CosignedCheckpoint latest;
  std::vector<Witness> honest;
  for (int i = 1; i <= 3; ++i) {
    honest.push_back(test::fresh_witness(dir_ / ("w" + std::to_string(i)), witness_key(i)));
    auto one = test::cosigned_by(honest.back(), *test::read_store(db_));
    latest.checkpoint = one.checkpoint;
    latest.cosignatures.push_back(one.cosignatures.at(0));
  }
  auto keeper = common::CheckpointKeeper::open(dir_ / "worker-checkpoint.json", keys({1, 2, 3}), 2);
  ASSERT_TRUE(keeper.ok()) << keeper.error().to_string();
  ASSERT_TRUE(keeper->offer(latest)->adopted);

  test::rewind_ledger(db_, 3);  // the last 2 blocks deleted
  for (auto& w : honest) EXPECT_FALSE(w.cosign(*test::read_store(db_))->verdict.ok());
  // Two witness keys whose views were wiped cosign the shorter chain...
  common::CosignedCheckpoint rewound;
  for (int i = 1; i <= 2; ++i) {
    auto forgetful = test::fresh_witness(dir_ / ("wiped" + std::to_string(i)), witness_key(i));
    auto one = test::cosigned_by(forgetful, *test::read_store(db_));
    rewound.checkpoint = one.checkpoint;
    rewound.cosignatures.push_back(one.cosignatures.at(0));
  }
  // ...and the worker, holding height 5, reports both checkpoints.
  auto offer = keeper->offer(rewound);
  ASSERT_TRUE(offer.ok()) << offer.error().to_string();
  EXPECT_FALSE(offer->adopted);
  ASSERT_TRUE(offer->misbehaviour.has_value());
  EXPECT_EQ(offer->misbehaviour->held.checkpoint.height, 5u);
  EXPECT_EQ(offer->misbehaviour->offered.checkpoint.height, 3u);
  EXPECT_TRUE(common::verify_checkpoint_evidence(*offer->misbehaviour, keys({1, 2, 3}), 2).ok());
  EXPECT_EQ(keeper->latest()->checkpoint.height, 5u);
}

}  // namespace
}  // namespace fl::ledger
