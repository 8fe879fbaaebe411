// The fl-ledger binary as a process on a real ledger database: exit codes, tables, and --json
// output parsed with nlohmann.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>

#include <cstdlib>
#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "fl/common/model_file.hpp"
#include "fl/common/tensor_codec.hpp"
#include "cli_fixture.hpp"

namespace fl::ledger {
namespace {

using nlohmann::json;
using test::CliTest;

TEST_F(CliTest, VerifyExitsZeroAndReportsTheChain) {
  auto r = run("verify --json " + db());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = r.parsed();
  EXPECT_TRUE(j["ok"].get<bool>());
  EXPECT_EQ(j["blocks"].get<int>(), 4);
  EXPECT_EQ(j["minted"].get<int>(), 3000);
  EXPECT_EQ(j["authority"].get<std::string>(), hex(test::authority_key().public_key));
  EXPECT_TRUE(j["failure"].is_null());
  EXPECT_EQ(run("verify " + db()).code, 0);
}

TEST_F(CliTest, VerifyExitsOneAndNamesTheBadBlockAfterTampering) {
  sqlite3* raw = nullptr;
  ASSERT_EQ(sqlite3_open(db_.c_str(), &raw), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(raw, "DROP TRIGGER txs_no_update; UPDATE txs SET amount = amount + 5 WHERE height = 2 AND idx = 2",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  sqlite3_close(raw);
  auto r = run("verify --json " + db());
  EXPECT_EQ(r.code, 1);
  const auto j = r.parsed();
  EXPECT_FALSE(j["ok"].get<bool>());
  EXPECT_EQ(j["failure"]["height"].get<int>(), 2);
  EXPECT_EQ(j["failure"]["tx_index"].get<int>(), 2);
  EXPECT_NE(r.err.find("block 2 tx 2"), std::string::npos) << r.err;
}

TEST_F(CliTest, VerifyOfAMissingDatabaseFails) {
  auto r = run("verify --db " + (dir_ / "nope.db").string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("does not exist"), std::string::npos) << r.err;
}

TEST_F(CliTest, AccountsListBalancesRoundsAndRejections) {
  auto r = run("accounts --json " + db());
  ASSERT_EQ(r.code, 0) << r.err;
  std::map<std::string, json> by_key;
  for (const auto& a : r.parsed()) by_key[a["account"].get<std::string>()] = a;
  const auto w0 = by_key.at(hex(test::worker_key(0).public_key));
  EXPECT_EQ(w0["balance"].get<int>(), 3 * 500);
  EXPECT_EQ(w0["rounds_contributed"].get<int>(), 3);
  EXPECT_EQ(w0["earned"].get<int>(), 1500);
  EXPECT_EQ(by_key.at(hex(test::worker_key(3).public_key))["rejections"].get<int>(), 3);
  EXPECT_NE(run("accounts " + db()).out.find("authority"), std::string::npos);
}

TEST_F(CliTest, RoundsOfAJobShowUpdatesAndRederivedRewards) {
  auto r = run("rounds job-1 --json " + db());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = r.parsed();
  ASSERT_EQ(j.size(), 3u);
  EXPECT_EQ(j[1]["round"].get<int>(), 2);
  EXPECT_EQ(j[1]["minted"].get<int>(), 1000);
  EXPECT_EQ(j[1]["updates"].size(), 4u);
  EXPECT_EQ(j[1]["updates"][3]["reason"].get<std::string>(), "non-finite values");
  EXPECT_EQ(run("rounds no-such-job " + db()).code, 1);
}

TEST_F(CliTest, TraceFindsTheRoundOfAModelFileAndOfADigest) {
  const std::vector<float> params = test::ramp(9);
  // A model whose digest the ledger does not know yet: record a round that produced it.
  {
    auto led = Ledger::open(db_).value();
    auto round = test::round_record(4, {0, 1}, {1.0, 0.5});
    round.model_digest = common::digest_of(params);
    ASSERT_TRUE(led->record_round(test::authority_key(), test::researcher_key(), test::job_record(), {}, round).ok());
  }
  common::ModelFileHeader header{"job-1", 4, "mlp", test::small_layout(), common::digest_of(params)};
  const auto file = dir_ / "global.flm";
  ASSERT_TRUE(common::save_model_file(file, header, params).ok());
  auto r = run("trace " + file.string() + " --json " + db());
  ASSERT_EQ(r.code, 0) << r.err;
  const auto j = r.parsed();
  ASSERT_EQ(j["rounds"].size(), 1u);
  EXPECT_EQ(j["rounds"][0]["round"].get<int>(), 4);
  EXPECT_EQ(j["rounds"][0]["updates"][0]["reward"].get<int>(), 667);
  auto by_digest = run("trace " + common::to_hex(common::digest_of(params)) + " " + db());
  EXPECT_EQ(by_digest.code, 0) << by_digest.err;
  EXPECT_NE(by_digest.out.find("round 4"), std::string::npos);
  EXPECT_EQ(run("trace " + std::string(64, 'a') + " " + db()).code, 1);
}

TEST_F(CliTest, ProofVerifiesOfflineAndFailsAgainstAnotherBlockHash) {
  const auto rounds = run("rounds job-1 --json " + db()).parsed();
  const std::string tx = rounds[2]["tx"].get<std::string>();
  auto tx_out = run("tx " + tx.substr(0, 12) + " --json " + db());
  ASSERT_EQ(tx_out.code, 0) << tx_out.err;
  EXPECT_EQ(tx_out.parsed()["type"].get<std::string>(), "round-result");
  auto proof = run("proof " + tx + " --json " + db());
  ASSERT_EQ(proof.code, 0) << proof.err;
  const auto proof_file = dir_ / "proof.json";
  test::write_file(proof_file, proof.out);
  const std::string block_hash = proof.parsed()["block"]["hash"].get<std::string>();
  auto ok = run("verify-proof " + proof_file.string() + " --block-hash " + block_hash + " --authority " +
                hex(test::authority_key().public_key));
  EXPECT_EQ(ok.code, 0) << ok.out << ok.err;
  auto wrong = run("verify-proof " + proof_file.string() + " --block-hash " + std::string(64, '0'));
  EXPECT_EQ(wrong.code, 1);
  auto j = proof.parsed();
  j["leaf_index"] = j["leaf_index"].get<int>() + 1;
  test::write_file(proof_file, j.dump());
  EXPECT_EQ(run("verify-proof " + proof_file.string()).code, 1);
}

TEST_F(CliTest, TransferStakeAndUnstakeAreSignedWithTheHoldersKey) {
  const auto key_file = dir_ / "w0.key";
  ASSERT_TRUE(common::save_key_file(key_file, test::worker_key(0)).ok());
  const std::string to = hex(test::worker_key(1).public_key);
  auto t = run("transfer --key " + key_file.string() + " --to " + to + " --amount 100 --json " + db());
  ASSERT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(t.parsed()["height"].get<int>(), 4);
  ASSERT_EQ(run("stake --key " + key_file.string() + " --amount 300 " + db()).code, 0);
  ASSERT_EQ(run("unstake --key " + key_file.string() + " --amount 50 " + db()).code, 0);
  auto too_much = run("stake --key " + key_file.string() + " --amount 999999 " + db());
  EXPECT_EQ(too_much.code, 1);
  EXPECT_NE(too_much.err.find("exceeds"), std::string::npos) << too_much.err;
  std::map<std::string, json> by_key;
  for (const auto& a : run("accounts --json " + db()).parsed()) by_key[a["account"].get<std::string>()] = a;
  EXPECT_EQ(by_key.at(hex(test::worker_key(0).public_key))["balance"].get<int>(), 1500 - 100 - 300 + 50);
  EXPECT_EQ(by_key.at(hex(test::worker_key(0).public_key))["stake"].get<int>(), 250);
  EXPECT_EQ(run("verify " + db()).code, 0);
  auto history = run("history " + hex(test::worker_key(0).public_key) + " --json " + db());
  ASSERT_EQ(history.code, 0);
  EXPECT_EQ(history.parsed().size(), 1u + 3 + 3 + 3);  // registration, 3 rounds, 3 mints, 3 own txs
}

TEST_F(CliTest, ExportWritesTransactionsAccountsAndRounds) {
  auto j = run("export --format json " + db());
  ASSERT_EQ(j.code, 0) << j.err;
  const auto doc = j.parsed();
  EXPECT_EQ(doc["transactions"].size(), 4u + 1 + 3 * 4);
  EXPECT_EQ(doc["rounds"].size(), 3u);
  const auto out = dir_ / "audit";
  ASSERT_EQ(run("export --format csv --out " + out.string() + " " + db()).code, 0);
  const auto rounds_csv = test::read_file(out / "rounds.csv");
  EXPECT_EQ(std::count(rounds_csv.begin(), rounds_csv.end(), '\n'), 1 + 3 * 4);
  EXPECT_NE(test::read_file(out / "accounts.csv").find("rounds_contributed"), std::string::npos);
  EXPECT_NE(run("export --format xml " + db()).code, 0);  // CLI11 rejects it
}

TEST_F(CliTest, BlocksListsEveryHeader) {
  auto r = run("blocks --json " + db());
  ASSERT_EQ(r.code, 0);
  const auto j = r.parsed();
  ASSERT_EQ(j.size(), 4u);
  EXPECT_EQ(j[2]["prev_hash"], j[1]["hash"]);
}

}  // namespace
}  // namespace fl::ledger
