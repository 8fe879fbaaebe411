// Cosigned checkpoints without a ledger: k-of-n counting, the JSON form, and a
// worker's CheckpointKeeper adopting higher checkpoints and reporting lower or
// diverging ones.
#include "fl/common/checkpoint.hpp"

#include <gtest/gtest.h>

#include "fl/common/checkpoint_keeper.hpp"
#include "fl/ledger/checkpoint.hpp"
#include "witness_fixture.hpp"

namespace fl::common {
namespace {

using test::witness_key;

Checkpoint checkpoint_at(std::uint64_t height, const std::string& fork = "") {
  return {blake2b_256(std::string_view("genesis")), height,
          blake2b_256("head " + std::to_string(height) + fork), 10 * height, 1000 + height};
}

CosignedCheckpoint cosigned(const Checkpoint& cp, std::initializer_list<int> ids) {
  CosignedCheckpoint out{cp, {}};
  for (int i : ids) out.cosignatures.push_back(cosign_checkpoint(cp, witness_key(i)));
  return out;
}

std::vector<PublicKey> allowed() {
  return {witness_key(1).public_key, witness_key(2).public_key, witness_key(3).public_key};
}

TEST(CheckpointTest, CountsOnlyValidCosignaturesByDistinctAllowedWitnesses) {
  auto cp = cosigned(checkpoint_at(4), {1, 1, 4, 2});  // a duplicate and an outsider
  cp.cosignatures[3].signature[5] ^= 0x01;             // witness 2's signature forged
  auto st = verify_cosigned(cp, allowed(), 2);
  ASSERT_FALSE(st.ok());
  const auto& why = st.error().message;
  EXPECT_NE(why.find("1 valid cosignature(s) of the 2 required"), std::string::npos) << why;
  EXPECT_NE(why.find("cosignature 2 by " + short_id(witness_key(1).public_key) +
                     " is a second cosignature"),
            std::string::npos)
      << why;
  EXPECT_NE(why.find("cosignature 3 by " + short_id(witness_key(4).public_key) +
                     " is not by an allowed witness"),
            std::string::npos)
      << why;
  EXPECT_NE(
      why.find("cosignature 4 by " + short_id(witness_key(2).public_key) + " does not verify"),
      std::string::npos)
      << why;
  EXPECT_TRUE(verify_cosigned(cp, allowed(), 1).ok());
  cp.cosignatures.push_back(cosign_checkpoint(cp.checkpoint, witness_key(3)));
  EXPECT_TRUE(verify_cosigned(cp, allowed(), 2).ok());
  EXPECT_EQ(verify_cosigned(cp, allowed(), 0).error().code, ErrorCode::kInvalidArgument);
}

TEST(CheckpointTest, ACosignatureCoversEveryField) {
  auto cp = cosigned(checkpoint_at(4), {1});
  cp.checkpoint.tree_size += 1;
  EXPECT_FALSE(verify_cosigned(cp, allowed(), 1).ok());
}

TEST(CheckpointTest, JsonFormRoundTripsAndNamesABadField) {
  const auto cp = cosigned(checkpoint_at(7), {1, 2});
  auto back = cosigned_checkpoint_from_json(cosigned_checkpoint_to_json(cp, 2));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->checkpoint, cp.checkpoint);
  EXPECT_TRUE(verify_cosigned(*back, allowed(), 2).ok());
  auto bad = cosigned_checkpoint_from_json(R"({"chain_id":"00","height":1})");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("chain_id"), std::string::npos) << bad.error().message;
}

class CheckpointKeeperTest : public ::testing::Test {
 protected:
  CheckpointKeeper open() {
    auto k = CheckpointKeeper::open(file_, allowed(), 2);
    EXPECT_TRUE(k.ok()) << k.error().to_string();
    return std::move(k).value();
  }
  test::TempDir dir_{"fl-keeper"};
  std::filesystem::path file_ = dir_ / "checkpoint.json";
};

TEST_F(CheckpointKeeperTest, KeepsTheLatestCheckpointOnDiskAcrossRestarts) {
  auto keeper = open();
  EXPECT_TRUE(keeper.offer(cosigned(checkpoint_at(3), {1, 2}))->adopted);
  EXPECT_TRUE(keeper.offer(cosigned(checkpoint_at(5), {2, 3}))->adopted);
  EXPECT_FALSE(keeper.offer(cosigned(checkpoint_at(5), {1, 3}))->adopted);  // the same head
  auto reopened = open();
  ASSERT_TRUE(reopened.latest().has_value());
  EXPECT_EQ(reopened.latest()->checkpoint, checkpoint_at(5));
}

TEST_F(CheckpointKeeperTest, RefusesACheckpointWithTooFewCosignatures) {
  auto keeper = open();
  auto offer = keeper.offer(cosigned(checkpoint_at(3), {1, 4}));
  ASSERT_FALSE(offer.ok());
  EXPECT_EQ(offer.error().code, ErrorCode::kBadSignature);
  EXPECT_FALSE(keeper.latest().has_value());
}

TEST_F(CheckpointKeeperTest, ReportsARewoundHeadWithBothCheckpoints) {
  auto keeper = open();
  ASSERT_TRUE(keeper.offer(cosigned(checkpoint_at(6), {1, 2}))->adopted);
  auto offer = keeper.offer(cosigned(checkpoint_at(4), {2, 3}));
  ASSERT_TRUE(offer.ok()) << offer.error().to_string();
  EXPECT_FALSE(offer->adopted);
  ASSERT_TRUE(offer->misbehaviour.has_value());
  EXPECT_NE(offer->misbehaviour->conflict.find("rewound from height 6 to 4"), std::string::npos);
  EXPECT_TRUE(verify_checkpoint_evidence(*offer->misbehaviour, allowed(), 2).ok());
  EXPECT_EQ(open().latest()->checkpoint.height, 6u);
}

TEST_F(CheckpointKeeperTest, ReportsTwoHeadsAtOneHeight) {
  auto keeper = open();
  ASSERT_TRUE(keeper.offer(cosigned(checkpoint_at(6), {1, 2}))->adopted);
  auto offer = keeper.offer(cosigned(checkpoint_at(6, "fork"), {1, 3}));
  ASSERT_TRUE(offer.ok()) << offer.error().to_string();
  ASSERT_TRUE(offer->misbehaviour.has_value());
  EXPECT_NE(offer->misbehaviour->conflict.find("two heads at height 6"), std::string::npos);
  EXPECT_TRUE(verify_checkpoint_evidence(*offer->misbehaviour, allowed(), 2).ok());
}

TEST_F(CheckpointKeeperTest, RefusesACheckpointOfAnotherChain) {
  auto keeper = open();
  ASSERT_TRUE(keeper.offer(cosigned(checkpoint_at(6), {1, 2}))->adopted);
  auto other = checkpoint_at(8);
  other.chain_id = blake2b_256(std::string_view("another genesis"));
  auto offer = keeper.offer(cosigned(other, {1, 2}));
  ASSERT_FALSE(offer.ok());
  EXPECT_EQ(offer.error().code, ErrorCode::kPrecondition);
}

}  // namespace
}  // namespace fl::common

namespace fl::ledger {
namespace {

// A worker settles a receipt with the headers between its block and a cosigned checkpoint
// (common::verify_under_checkpoint); the ledger's own block hashes are the ones it computes.
TEST(ReceiptFinality, AReceiptsBlockLinksToACheckpointAboveItThroughTheHeadersBetween) {
  test::TempDir dir{"fl-finality"};
  auto led = test::make_ledger(dir / "ledger.db", 2);
  auto receipts = led->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                                    test::registrations(4), test::round_record(3, {0, 1, 2}, {0.9, 0.6, 0.3}, {3}));
  ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  for (int r = 4; r <= 6; ++r) {
    ASSERT_TRUE(led->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                                  test::registrations(4), test::round_record(r, {0, 1, 2}, {0.9, 0.6, 0.3}, {3}))
                    .ok());
  }
  auto store = open_sqlite_block_store(dir / "ledger.db", StoreAccess::kReadOnly);
  ASSERT_TRUE(store.ok());
  auto chain = read_verified_chain(**store);
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  for (const auto& b : chain->blocks) EXPECT_EQ(common::block_hash(b.header), b.hash);
  const auto cp = chain->checkpoint();
  auto headers = led->headers(0, led->height());
  ASSERT_TRUE(headers.ok()) << headers.error().to_string();
  ASSERT_EQ(headers->size(), chain->blocks.size());
  const common::Receipt& r = receipts->front();
  EXPECT_TRUE(common::verify_under_checkpoint(cp, *headers, r.block_height, r.block_hash, r.merkle_root).ok());
  // Only the headers from the receipt's block up are needed.
  const std::span<const common::BlockHeader> from_block(headers->data() + r.block_height,
                                                        headers->size() - r.block_height);
  EXPECT_TRUE(common::verify_under_checkpoint(cp, from_block, r.block_height, r.block_hash, r.merkle_root).ok());

  const auto refused = [&](const common::Checkpoint& at, std::span<const common::BlockHeader> hs, const common::Digest& hash,
                           const std::string& why) {
    auto st = common::verify_under_checkpoint(at, hs, r.block_height, hash, r.merkle_root);
    ASSERT_FALSE(st.ok()) << why;
    EXPECT_NE(st.error().message.find(why), std::string::npos) << st.error().message;
  };
  refused(chain->checkpoint_at(r.block_height - 1), *headers, r.block_hash, "it is above it");
  refused(cp, std::span<const common::BlockHeader>(*headers).first(headers->size() - 1), r.block_hash,
          "do not reach from it to the checkpoint");
  auto other = r.block_hash;
  other[0] ^= 1;
  refused(cp, *headers, other, "does not hash to the block hash");
  auto forked = *headers;
  forked[r.block_height + 1].prev_hash[0] ^= 1;  // a block above that does not follow it
  refused(cp, forked, r.block_hash, "does not follow the one before it");
  // A gap below the receipt's block: its index in the list is past the list's end.
  ASSERT_GE(r.block_height, headers->front().height + 2);
  std::vector<common::BlockHeader> gapped{headers->front(), headers->back()};
  refused(cp, gapped, r.block_hash, "skip its height");
  auto last = *headers;
  last.back().time_ms += 1;  // the chain ends at another head than the witnesses cosigned
  refused(cp, last, r.block_hash, "do not end at the checkpoint's head hash");
}

}  // namespace
}  // namespace fl::ledger
