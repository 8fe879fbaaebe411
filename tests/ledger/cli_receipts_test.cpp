// `fl-ledger verify-proof` on a worker's --receipts file, written by the one receipt writer in
// common: every line checked, or one chosen line, and bad lines named by number.
#include <gtest/gtest.h>

#include "cli_fixture.hpp"
#include "fl/common/receipt_json.hpp"

namespace fl::ledger {
namespace {

using test::CliTest;

class CliReceiptsTest : public CliTest {
 protected:
  // Records round 4 and writes its receipts as fl-worker does, one line each.
  std::vector<RoundReceipt> write_receipts() {
    auto led = Ledger::open(db_).value();
    auto receipts =
        led->record_round(test::authority_key(), test::researcher_key(), test::job_record(), {},
                          test::round_record(4, {0, 1}, {0.6, 0.4}))
            .value();
    std::string text;
    for (const auto& r : receipts) text += common::receipt_to_json_line("job-1", 4, r, true) + "\n";
    test::write_file(file_, text);
    return receipts;
  }
  std::filesystem::path file_ = dir_ / "w.receipts";
};

TEST_F(CliReceiptsTest, EveryLineOfAReceiptsFileVerifies) {
  const auto receipts = write_receipts();
  auto r = run("verify-proof " + file_.string());
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("line 1: ok"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("line 2: ok"), std::string::npos) << r.out;
  auto j = run("verify-proof --json " + file_.string() + " --block-hash " +
               common::to_hex(receipts[0].block_hash));
  ASSERT_EQ(j.code, 0) << j.err;
  EXPECT_TRUE(j.parsed()["ok"].get<bool>());
  EXPECT_EQ(j.parsed()["receipts"].size(), 2u);
  EXPECT_EQ(j.parsed()["receipts"][1]["round"].get<int>(), 4);
}

TEST_F(CliReceiptsTest, ABadLineIsNamedByNumberAndAChosenLineIsCheckedAlone) {
  write_receipts();
  test::write_file(file_, test::read_file(file_) + "{\"job_id\": \"job-1\"\n");
  auto r = run("verify-proof " + file_.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("w.receipts line 3: receipt line is not JSON"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("json.exception"), std::string::npos) << r.err;
  EXPECT_EQ(run("verify-proof --line 2 " + file_.string()).code, 0);
  auto beyond = run("verify-proof --line 9 " + file_.string());
  EXPECT_EQ(beyond.code, 1);
  EXPECT_NE(beyond.err.find("has 3 lines"), std::string::npos) << beyond.err;
}

TEST_F(CliReceiptsTest, ATamperedPathOrAnUntrustedBlockFails) {
  const auto receipts = write_receipts();
  EXPECT_EQ(run("verify-proof " + file_.string() + " --block-hash " + std::string(64, '0')).code,
            1);
  common::Receipt moved = receipts[0];
  moved.leaf_index += 1;
  test::write_file(file_, common::receipt_to_json_line("job-1", 4, moved, true) + "\n");
  auto tampered = run("verify-proof " + file_.string());
  EXPECT_EQ(tampered.code, 1);
  EXPECT_NE(tampered.out.find("Merkle path does not lead"), std::string::npos) << tampered.out;
}

TEST_F(CliReceiptsTest, AFileThatIsNeitherProofNorReceiptsIsNamed) {
  test::write_file(file_, "not a receipt\n");
  auto r = run("verify-proof " + file_.string());
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  test::write_file(file_, R"({"block": {"height": 1}})");
  auto half_proof = run("verify-proof " + file_.string());
  EXPECT_EQ(half_proof.code, 1);
  EXPECT_NE(half_proof.err.find("not a proof"), std::string::npos) << half_proof.err;
  EXPECT_EQ(half_proof.err.find("json.exception"), std::string::npos) << half_proof.err;
  auto missing = run("verify-proof " + (dir_ / "none.json").string());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("none.json"), std::string::npos) << missing.err;
}

TEST_F(CliReceiptsTest, AProofWithAFractionalOrNegativeIndexIsRefusedNotConverted) {
  // Found by fuzzing: 1e300 in an integer field was converted to u64 with undefined behaviour.
  const std::string zeros(64, '0');
  for (const std::string index : {"1e300", "-1", "2.5"}) {
    test::write_file(file_, R"({"tx_hash": ")" + zeros + R"(", "leaf_index": )" + index +
                                R"(, "tree_size": 1, "proof": [], "block": {"height": 1}})");
    auto r = run("verify-proof " + file_.string());
    EXPECT_EQ(r.code, 1);
    EXPECT_NE(r.err.find("\"leaf_index\" is not a non-negative integer"), std::string::npos) << r.err;
  }
}

}  // namespace
}  // namespace fl::ledger
