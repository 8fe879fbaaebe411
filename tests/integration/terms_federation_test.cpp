// Job terms and worker policies with the real binaries: `fl-worker check` prints the terms a
// running fl-coordinator offers and the policy's decision without joining; a worker whose
// policy forbids the job refuses it with the clause before registering; workers whose policy
// allows it consent, and their consents and the terms are on the ledger, which verifies.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "federation_fixture.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

class TermsFederation : public Federation {
 protected:
  std::filesystem::path policy(const std::string& name, const std::string& body) {
    const auto path = dir_ / name;
    std::ofstream(path) << "[policy]\n" << body;
    return path;
  }
  // `fl-worker check` against the running coordinator: its exit code, and what it printed in `out`.
  int check(const std::string& endpoint, const std::filesystem::path& policy_file, std::string* out) {
    const auto key = dir_ / "checker.key";
    if (!std::filesystem::exists(key)) {
      EXPECT_TRUE(common::save_key_file(key, common::key_pair_from_label("itest-checker")).ok());
    }
    const auto log = dir_ / "check.out";
    std::filesystem::remove(log);
    test::ChildProcess p({test::binary("fl-worker"), "check", "--coordinator", endpoint, "--coordinator-key",
                          coordinator_key_file().string(), "--key", key.string(), "--policy", policy_file.string()},
                         log);
    const auto code = p.wait(60s).value_or(-1);
    *out = test::read_file(log);
    return code;
  }
};

TEST_F(TermsFederation, WorkersCheckTheTermsRefuseWhatTheirPolicyForbidsAndConsentOnTheLedger) {
  JobSpec spec;
  spec.rounds = 2;
  spec.min_workers = 2;
  write_config(spec);
  std::ofstream(dir_ / "job.toml", std::ios::app)
      << "[terms]\npurpose = \"a clothing classifier for an integration test\"\nretention_days = 7\n";
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();

  const auto strict = policy("strict.toml", "max_rounds = 1\n");
  const auto fine = policy("fine.toml", "max_rounds = 10\nmax_retention_days = 30\nmodels = [\"mlp\"]\nthreads = 1\n");
  std::string out;
  EXPECT_EQ(check(endpoint, strict, &out), 2) << out;
  EXPECT_NE(out.find("purpose: a clothing classifier for an integration test"), std::string::npos) << out;
  EXPECT_NE(out.find("updates kept: 7 days, readable by coordinators"), std::string::npos) << out;
  EXPECT_NE(out.find("decision: refuse (" + strict.string() + ": max_rounds = 1, but the job runs 2 rounds)"),
            std::string::npos)
      << out;
  EXPECT_EQ(check(endpoint, fine, &out), 0) << out;
  EXPECT_NE(out.find("decision: accept"), std::string::npos) << out;

  // A worker whose policy forbids the job never registers: it exits naming the clause.
  auto refusing = start_worker(2, 3, endpoint, 600, {}, {"--policy", strict.string()});
  EXPECT_EQ(refusing.wait(60s), 1);
  const auto refused_log = test::read_file(dir_ / "worker2.out");
  EXPECT_NE(refused_log.find("policy refuses job 'itest': " + strict.string() + ": max_rounds = 1"), std::string::npos)
      << refused_log;

  std::vector<test::ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 3, endpoint, 600, {}, {"--policy", fine.string()}));
  ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);
  const auto log = test::read_file(dir_ / "coordinator.out");
  const auto refused_key = common::short_id(common::key_pair_from_label("itest-worker-2").public_key);
  EXPECT_EQ(log.find("worker " + refused_key + " registered"), std::string::npos) << log;

  int code = -1;
  const auto report = ledger_json(dir_, {"verify"}, &code);
  EXPECT_EQ(code, 0) << report.dump();
  for (int k = 0; k < 2; ++k) {
    const auto key = common::to_hex(common::key_pair_from_label("itest-worker-" + std::to_string(k)).public_key);
    int consents = 0;
    for (const auto& tx : ledger_json(dir_, {"history", key})) consents += tx["type"] == "consent";
    EXPECT_EQ(consents, 1) << "worker " << k;
  }
  const auto on_ledger = ledger_json(dir_, {"terms", "itest"}, &code);
  EXPECT_EQ(code, 0) << on_ledger.dump();
  EXPECT_EQ(on_ledger["consents"].size(), 2u) << on_ledger.dump();
  EXPECT_EQ(on_ledger["terms"]["purpose"], "a clothing classifier for an integration test");
  const auto terms = nlohmann::json::parse(test::read_file(run_ / "terms.json"));
  EXPECT_EQ(terms, on_ledger["terms"]);
  EXPECT_EQ(terms["rounds"], 2);
  EXPECT_EQ(terms["retention_days"], 7);
}

}  // namespace
}  // namespace fl
