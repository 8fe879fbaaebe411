// fl-ledger issue, escrow, refund and slash, through the real binary: the authority funds a
// researcher, the researcher funds a job and takes back the rest, and an admin slashes a worker
// with the evidence line the coordinator wrote.
#include <fstream>

#include "cli_fixture.hpp"
#include "fl/common/wire.hpp"
#include "fl/ledger/json.hpp"

namespace fl::test {
namespace {

class CliEconomyTest : public CliTest {
 protected:
  std::string key(const std::string& name, const common::KeyPair& k) {
    const auto file = dir_ / (name + ".key");
    EXPECT_TRUE(common::save_key_file(file, k).ok());
    return file.string();
  }
  std::uint64_t balance(const common::PublicKey& k) {
    auto accounts = run("accounts --json " + db());
    for (const auto& a : accounts.parsed()) {
      if (a["account"] == hex(k)) return a["balance"].get<std::uint64_t>();
    }
    return 0;
  }
};

common::UpdateClaim claim(const common::KeyPair& worker, const std::string& payload) {
  common::UpdateHeader h;
  h.job_id = "job-1";
  h.round = 4;
  h.worker_key = worker.public_key;
  h.payload_digest = test::digest_of_text(payload);
  common::sign_update(h, worker.secret_key);
  return common::update_claim(h);
}

TEST_F(CliEconomyTest, TheAuthorityIssuesAndAResearcherEscrowsAndRefunds) {
  const auto authority = key("authority", test::authority_key());
  const auto researcher = key("researcher", test::researcher_key());
  const auto rhex = hex(test::researcher_key().public_key);
  const auto before = balance(test::researcher_key().public_key);
  auto issued = run("issue --key " + authority + " --to " + rhex + " --amount 5000 --json " + db());
  ASSERT_EQ(issued.code, 0) << issued.err;
  EXPECT_EQ(issued.parsed()["ok"], true);
  auto stranger = run("issue --key " + researcher + " --to " + rhex + " --amount 5 " + db());
  EXPECT_EQ(stranger.code, 1);
  EXPECT_NE(stranger.err.find("not a member of the consortium"), std::string::npos) << stranger.err;

  auto escrow = run("escrow --key " + researcher + " --job job-1 --amount 3000 " + db());
  ASSERT_EQ(escrow.code, 0) << escrow.err;
  EXPECT_NE(escrow.out.find("escrow 3000 for 'job-1'"), std::string::npos) << escrow.out;
  EXPECT_EQ(balance(test::researcher_key().public_key), before + 2000);
  auto verify = run("verify " + db());
  EXPECT_EQ(verify.code, 0) << verify.out << verify.err;
  EXPECT_NE(verify.out.find("+ escrow 3000"), std::string::npos) << verify.out;

  auto refund = run("refund --key " + researcher + " --job job-1 " + db());
  ASSERT_EQ(refund.code, 0) << refund.err;
  EXPECT_EQ(balance(test::researcher_key().public_key), before + 5000);
  auto again = run("refund --key " + researcher + " --job job-1 " + db());
  EXPECT_EQ(again.code, 1);
  EXPECT_NE(again.err.find("already closed"), std::string::npos) << again.err;
}

TEST_F(CliEconomyTest, SlashReadsTheCoordinatorsEvidenceLineAndRefusesABrokenOne) {
  const auto authority = key("authority", test::authority_key());
  const auto worker = test::worker_key(0);  // earned rewards in the fixture's rounds
  ASSERT_EQ(run("stake --key " + key("w0", worker) + " --amount 100 " + db()).code, 0);
  const auto evidence = dir_ / "evidence.jsonl";
  auto good = ledger::evidence_json({claim(worker, "a"), claim(worker, "b")});
  auto broken = good;
  broken["second"]["signature"] = good["first"]["signature"];
  std::ofstream(evidence) << broken.dump() << '\n' << good.dump() << '\n';

  auto refused = run("slash --key " + authority + " --evidence " + evidence.string() + " " + db());
  EXPECT_EQ(refused.code, 1);
  EXPECT_NE(refused.err.find("does not verify"), std::string::npos) << refused.err;
  auto slashed = run("slash --key " + authority + " --evidence " + evidence.string() +
                     " --line 2 --fraction 0.25 --json " + db());
  ASSERT_EQ(slashed.code, 0) << slashed.err;
  EXPECT_NE(slashed.parsed()["summary"].get<std::string>().find("slash 25 of"), std::string::npos) << slashed.out;
  auto verify = run("verify --json " + db());
  EXPECT_EQ(verify.parsed()["ok"], true) << verify.out;
  EXPECT_EQ(verify.parsed()["slashed"], 25);
  auto missing = run("slash --key " + authority + " --evidence " + evidence.string() + " --line 7 " + db());
  EXPECT_EQ(missing.code, 1);
  EXPECT_NE(missing.err.find("has no line 7"), std::string::npos) << missing.err;
}

}  // namespace
}  // namespace fl::test
