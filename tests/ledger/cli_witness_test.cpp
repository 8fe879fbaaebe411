// fl-ledger witness init|cosign and checkpoint verify, run as the real binary: a witness
// cosigns the ledger's head, the checkpoint verifies with k = 1 and not with k = 2, and after
// the head is rewound the witness refuses (exit 1) with a proof that checkpoint verify accepts.
#include <gtest/gtest.h>

#include "cli_fixture.hpp"
#include "witness_fixture.hpp"

namespace fl::ledger {
namespace {

class CliWitnessTest : public test::CliTest {
 protected:
  void SetUp() override {
    CliTest::SetUp();
    ASSERT_TRUE(common::save_key_file(key_, test::witness_key(1)).ok());
    ASSERT_TRUE(common::save_public_key_file(pub_, test::witness_key(1).public_key).ok());
  }
  std::string witness_args() const {
    return "--key " + key_.string() + " --state " + (dir_ / "view").string();
  }
  std::filesystem::path key_ = dir_ / "witness.key";
  std::filesystem::path pub_ = dir_ / "witness.pub";
};

TEST_F(CliWitnessTest, CosignsTheHeadAndTheCheckpointVerifiesWithKOfItsWitnesses) {
  ASSERT_EQ(run("witness init " + witness_args()).code, 0);
  const auto cp = dir_ / "checkpoint.json";
  auto cosign = run("witness cosign " + db() + " " + witness_args() + " --out " + cp.string());
  ASSERT_EQ(cosign.code, 0) << cosign.err;
  EXPECT_EQ(cosign.parsed()["height"], 3);
  EXPECT_EQ(cosign.parsed()["cosignatures"].size(), 1u);
  auto ok = run("checkpoint verify " + cp.string() + " --witness " + pub_.string() + " --k 1");
  EXPECT_EQ(ok.code, 0) << ok.err;
  EXPECT_NE(ok.out.find("ok: checkpoint at height 3"), std::string::npos) << ok.out;
  auto two = run("checkpoint verify " + cp.string() + " --witness " + pub_.string() + " --k 2");
  EXPECT_EQ(two.code, 1);
  EXPECT_NE(two.out.find("1 valid cosignature(s) of the 2 required"), std::string::npos) << two.out;
}

TEST_F(CliWitnessTest, RefusesARewoundHeadNamingBothHeightsWithAProofThatVerifies) {
  ASSERT_EQ(run("witness init " + witness_args()).code, 0);
  ASSERT_EQ(run("witness cosign " + db() + " " + witness_args()).code, 0);
  test::rewind_ledger(db_, 1);
  auto refused = run("witness cosign " + db() + " " + witness_args());
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("from height 3"), std::string::npos) << refused.err;
  EXPECT_NE(refused.err.find("to height 1"), std::string::npos) << refused.err;
  const auto proof = dir_ / "proof.json";
  test::write_file(proof, refused.parsed()["misbehaviour_proof"].dump());
  auto check = run("checkpoint verify " + proof.string() + " --witness " +
                   common::to_hex(test::witness_key(1).public_key) + " --k 1");
  EXPECT_EQ(check.code, 0) << check.err;
  EXPECT_NE(check.out.find("rewound from height 3 to 1"), std::string::npos) << check.out;
}

TEST_F(CliWitnessTest, RefusesAChainThatDoesNotVerifyNamingTheBlock) {
  ASSERT_EQ(run("witness init " + witness_args()).code, 0);
  test::edit_ledger(db_, "UPDATE blocks SET time_ms = time_ms + 1 WHERE height = 2;");
  auto refused = run("witness cosign " + db() + " " + witness_args());
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("block 2"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace fl::ledger
