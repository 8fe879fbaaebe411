// Rounds anyone can re-check: a real coordinator keeps every accepted update and global model in
// its store, `fl-ledger audit` re-runs each recorded round from them, and a witness run with
// --audit cosigns only a chain whose rounds follow from their updates. A coordinator that
// publishes another aggregate (FL_FAULT_TAMPER, research mode) is named by round.
#include <cstdlib>

#include "federation_fixture.hpp"

namespace fl {
namespace {

struct CliRun {
  int code = -1;
  std::string out, err;
};

class AuditFederation : public Federation {
 protected:
  CliRun fl_ledger(std::vector<std::string> args) {
    std::vector<std::string> argv = {"/bin/sh", "-c", ""};
    std::string cmd = test::binary("fl-ledger");
    for (const auto& a : args) cmd += " '" + a + "'";
    const auto out = dir_ / "ledger.stdout", err = dir_ / "ledger.stderr";
    argv[2] = cmd + " 2>" + err.string();
    ChildProcess p(argv, out);
    CliRun r;
    r.code = p.wait(120s).value_or(-1);
    r.out = test::read_file(out);
    r.err = test::read_file(err);
    return r;
  }
  CliRun audit(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"audit",   "itest",
                                     "--db",    (run_ / "ledger.db").string(),
                                     "--store", (run_ / "store").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return fl_ledger(args);
  }
  CliRun cosign() {
    const auto key = dir_ / "witness.key";
    if (!std::filesystem::exists(key)) {
      EXPECT_TRUE(common::save_key_file(key, common::key_pair_from_label("itest-witness")).ok());
      EXPECT_EQ(
          fl_ledger({"witness", "init", "--key", key.string(), "--state", (dir_ / "view").string()})
              .code,
          0);
    }
    return fl_ledger({"witness", "cosign", "--db", (run_ / "ledger.db").string(), "--key",
                      key.string(), "--state", (dir_ / "view").string(), "--audit",
                      (run_ / "store").string()});
  }
  void run_job() {
    JobSpec spec;
    spec.rounds = 3;
    spec.min_workers = 2;
    write_config(spec);
    run_to_end(2);
  }
};

TEST_F(AuditFederation, EveryRoundOfAnHonestJobReRunsToItsRecordedModelAndAWitnessCosigns) {
  run_job();
  ASSERT_TRUE(std::filesystem::exists(run_ / "store" / "updates"));
  auto r = audit({"--json"});
  ASSERT_EQ(r.code, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_TRUE(j["ok"].get<bool>());
  ASSERT_EQ(j["rounds"].size(), 3u);
  for (const auto& round : j["rounds"]) {
    EXPECT_TRUE(round["rerun"].get<bool>()) << round.dump();
    EXPECT_EQ(round["updates"], 2) << round.dump();
    EXPECT_EQ(round["derived_model"], round["recorded_model"]);
  }
  auto one = audit({"--round", "2"});
  EXPECT_EQ(one.code, 0) << one.out << one.err;
  EXPECT_NE(one.out.find("round 2 (block"), std::string::npos) << one.out;
  auto signed_ok = cosign();
  EXPECT_EQ(signed_ok.code, 0) << signed_ok.out << signed_ok.err;

  // A stored update whose payload was changed no longer matches its worker's signature.
  for (const auto& entry : std::filesystem::directory_iterator(run_ / "store" / "updates")) {
    std::fstream f(entry.path(), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(-1, std::ios::end);
    f.put('\x7f');
    break;
  }
  auto broken = audit();
  EXPECT_EQ(broken.code, 1) << broken.out;
  EXPECT_NE(broken.err.find("in the store"), std::string::npos) << broken.err;
}

TEST_F(AuditFederation, AnAggregateItsUpdatesDoNotProduceIsNamedByRoundAndGetsNoCosignature) {
  ::setenv("FL_FAULT_TAMPER", "aggregate:2", 1);
  run_job();
  ::unsetenv("FL_FAULT_TAMPER");
  auto r = audit({"--json"});
  EXPECT_EQ(r.code, 1) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  ASSERT_EQ(j["rounds"].size(), 3u);
  EXPECT_TRUE(j["rounds"][0]["ok"].get<bool>());
  EXPECT_FALSE(j["rounds"][1]["ok"].get<bool>());
  EXPECT_NE(j["rounds"][1]["problem"].get<std::string>().find("round 2: the recorded model"),
            std::string::npos)
      << j["rounds"][1].dump();
  EXPECT_NE(j["rounds"][1]["problem"].get<std::string>().find("does not follow from its updates"),
            std::string::npos);
  EXPECT_TRUE(j["rounds"][2]["ok"].get<bool>())
      << "round 3 is judged from the model round 2 recorded";
  auto refused = cosign();
  EXPECT_EQ(refused.code, 1) << refused.out;
  EXPECT_NE(refused.err.find("round 2"), std::string::npos) << refused.err;
}

}  // namespace
}  // namespace fl
