// The receipt's one JSON form: a worker's --receipts line round-trips, and a bad line is named.
#include "fl/common/receipt_json.hpp"

#include <gtest/gtest.h>

namespace fl::common {
namespace {

Receipt sample_receipt() {
  Receipt r;
  r.update_digest = blake2b_256(std::string("update"));
  r.reward = 250;
  r.tx_hash = blake2b_256(std::string("tx"));
  r.block_height = 4;
  r.block_hash = blake2b_256(std::string("block"));
  r.merkle_root = blake2b_256(std::string("root"));
  r.leaf_index = 2;
  r.tree_size = 5;
  r.proof = {blake2b_256(std::string("a")), blake2b_256(std::string("b"))};
  return r;
}

TEST(ReceiptJson, ALineRoundTripsEveryField) {
  const Receipt r = sample_receipt();
  const std::string line = receipt_to_json_line("mnist", 3, r, true);
  EXPECT_EQ(line.find('\n'), std::string::npos);
  auto back = receipt_from_json_line(line);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->job_id, "mnist");
  EXPECT_EQ(back->round, 3u);
  EXPECT_TRUE(back->proof_verified);
  EXPECT_EQ(back->receipt.update_digest, r.update_digest);
  EXPECT_EQ(back->receipt.reward, 250u);
  EXPECT_EQ(back->receipt.tx_hash, r.tx_hash);
  EXPECT_EQ(back->receipt.block_height, 4u);
  EXPECT_EQ(back->receipt.block_hash, r.block_hash);
  EXPECT_EQ(back->receipt.merkle_root, r.merkle_root);
  EXPECT_EQ(back->receipt.leaf_index, 2u);
  EXPECT_EQ(back->receipt.tree_size, 5u);
  EXPECT_EQ(back->receipt.proof, r.proof);
}

TEST(ReceiptJson, TextThatIsNotJsonIsNamedAsSuch) {
  auto back = receipt_from_json_line("round 3: receipt ok");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("not JSON"), std::string::npos) << back.error().message;
}

TEST(ReceiptJson, AMissingFieldIsNamed) {
  auto back = receipt_from_json_line(R"({"job_id":"mnist","round":3})");
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("\"update\""), std::string::npos) << back.error().message;
}

TEST(ReceiptJson, ALineWithoutTheMerklePathPointsToFlLedgerProof) {
  std::string line = receipt_to_json_line("mnist", 3, sample_receipt(), true);
  const auto at = line.find(",\"leaf_index\"");
  line = line.substr(0, at) + "}";
  auto back = receipt_from_json_line(line);
  ASSERT_FALSE(back.ok());
  EXPECT_NE(back.error().message.find("fl-ledger proof"), std::string::npos)
      << back.error().message;
}

TEST(ReceiptJson, NegativeNumbersAndShortDigestsAreRefused) {
  const Receipt r = sample_receipt();
  std::string line = receipt_to_json_line("mnist", 3, r, true);
  std::string negative = line;
  negative.replace(negative.find("\"reward\":250"), 12, "\"reward\":-5");
  auto a = receipt_from_json_line(negative);
  ASSERT_FALSE(a.ok());
  EXPECT_NE(a.error().message.find("\"reward\""), std::string::npos) << a.error().message;
  std::string shortened = line;
  shortened.replace(shortened.find(to_hex(r.tx_hash)), 64, "abcd");
  auto b = receipt_from_json_line(shortened);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.error().message.find("\"tx_hash\""), std::string::npos) << b.error().message;
}

}  // namespace
}  // namespace fl::common
