// /api/ledger/...: the ledger's query layer over HTTP, on a real SQLite ledger.
#include "fl/ledger/ledger_api.hpp"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fl/ledger/json.hpp"
#include "ledger/ledger_fixture.hpp"

namespace fl::ledger {
namespace {

using nlohmann::json;

class LedgerApiTest : public ::testing::Test {
 protected:
  json get_json(const std::string& path, std::map<std::string, std::string> params = {}) {
    auto reply = api_.get({path, std::move(params)});
    EXPECT_EQ(reply.status, 200) << path << ": " << reply.body;
    return json::parse(reply.body);
  }
  test::TempDir dir_;
  std::unique_ptr<Ledger> ledger_ = test::make_ledger(dir_ / "ledger.db", 3);
  LedgerApi api_{dir_ / "ledger.db"};
};

TEST_F(LedgerApiTest, ListsBlocksNewestFirst) {
  const auto j = get_json("/api/ledger/blocks");
  ASSERT_FALSE(j["blocks"].empty());
  EXPECT_EQ(j["height"], j["blocks"][0]["height"]);
  EXPECT_GT(j["blocks"][0]["height"].get<int>(), j["blocks"][1]["height"].get<int>());
  EXPECT_EQ(get_json("/api/ledger/blocks", {{"limit", "2"}})["blocks"].size(), 2u);
}

TEST_F(LedgerApiTest, ShowsABlocksTransactionsWithTheirMerkleProofs) {
  const auto height = get_json("/api/ledger/blocks")["height"].get<int>();
  const auto b = get_json("/api/ledger/blocks/" + std::to_string(height));
  ASSERT_FALSE(b["transactions"].empty());
  for (const auto& t : b["transactions"]) {
    ASSERT_TRUE(t.contains("proof"));
    EXPECT_EQ(t["proof"]["merkle_root"], b["merkle_root"]);
    auto proof = proof_from_json(t["proof"]);
    ASSERT_TRUE(proof.ok());
    EXPECT_TRUE(check_proof(*proof, std::nullopt, std::nullopt).ok());
  }
}

TEST_F(LedgerApiTest, AnswersOneRoundWithItsUpdatesAndRewards) {
  const auto j = get_json("/api/ledger/rounds/2");
  ASSERT_EQ(j.size(), 1u);
  EXPECT_EQ(j[0]["round"], 2);
  EXPECT_EQ(j[0]["updates"].size(), 4u);  // three accepted, one rejected
  EXPECT_EQ(get_json("/api/ledger/rounds").size(), 3u);
}

TEST_F(LedgerApiTest, NamesARoundThatIsNotOnTheLedger) {
  auto reply = api_.get({"/api/ledger/rounds/9", {}});
  EXPECT_EQ(reply.status, 404);
  EXPECT_NE(reply.body.find("no round 9"), std::string::npos);
}

TEST_F(LedgerApiTest, ListsAccountsWithBalances) {
  const auto j = get_json("/api/ledger/accounts");
  std::uint64_t total = 0;
  for (const auto& a : j) total += a["balance"].get<std::uint64_t>();
  EXPECT_EQ(total, 3000u);  // three rounds of 1000 tokens
}

TEST_F(LedgerApiTest, ReportsVerificationAndSeesNewBlocks) {
  auto v = get_json("/api/ledger/verify");
  EXPECT_TRUE(v["ok"].get<bool>());
  const auto before = v["blocks"].get<int>();
  auto receipts =
      ledger_->record_round(test::authority_key(), test::researcher_key(), test::job_record(),
                            test::registrations(4), test::round_record(4, {0, 1}, {0.5, 0.5}));
  ASSERT_TRUE(receipts.ok());
  EXPECT_GT(get_json("/api/ledger/verify")["blocks"].get<int>(), before);
  EXPECT_EQ(get_json("/api/ledger/rounds").size(), 4u);
}

TEST(LedgerApi, SaysWhenThereIsNoLedgerYet) {
  test::TempDir dir;
  LedgerApi api(dir / "ledger.db");
  auto reply = api.get({"/api/ledger/blocks", {}});
  EXPECT_EQ(reply.status, 503);
  EXPECT_NE(reply.body.find("no ledger"), std::string::npos);
}

}  // namespace
}  // namespace fl::ledger
