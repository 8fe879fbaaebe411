// Rounds anyone can re-check: a real coordinator keeps every accepted update and global model in
// its store, `fl-ledger audit` re-runs each recorded round from them, and a witness run with
// --audit cosigns only a chain whose rounds follow from their updates. A coordinator that
// publishes another aggregate (FL_FAULT_TAMPER, research mode) is named by round. A witness
// with an empty store fetches the rounds from the coordinator's store server.
#include <cstdlib>

#include "federation_fixture.hpp"
#include "support/etcd_cluster.hpp"

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

// A member whose store is empty (a fresh disk, an outside auditor named a witness) fetches the
// rounds' updates and models from the running coordinator's store server ([ledger]
// store_listen, CURVE, the coordinator's key pinned) and re-runs them; a key outside the
// consortium gets nothing, and the audit names the rounds it could not re-run.
TEST_F(AuditFederation, AWitnessWithAnEmptyStoreFetchesTheRoundsFromTheRunningCoordinator) {
  JobSpec spec;
  spec.rounds = 4;
  spec.min_workers = 2;
  write_config(spec);
  auto port = test::free_ports(1);
  ASSERT_TRUE(port.ok());
  const std::string store_endpoint = "tcp://127.0.0.1:" + std::to_string((*port)[0]);
  const auto auditor_key = dir_ / "auditor.key";
  ASSERT_TRUE(common::save_key_file(auditor_key, common::key_pair_from_label("itest-auditor")).ok());
  ASSERT_TRUE(common::save_key_file(dir_ / "stranger.key", common::key_pair_from_label("itest-stranger")).ok());
  std::ofstream(dir_ / "consortium.toml") << "members = [\"" << coordinator_key_file().string()
                                          << "\"]\nwitnesses = [\"" << auditor_key.string()
                                          << "\"]\nquorum = 1\nminters = [\"" << coordinator_key_file().string()
                                          << "\"]\n";
  std::ofstream(dir_ / "job.toml", std::ios::app)
      << "[ledger]\nconsortium = \"" << (dir_ / "consortium.toml").string() << "\"\nstore_listen = \""
      << store_endpoint << "\"\n";
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint));
  ASSERT_TRUE(test::wait_until([&] { return read_metrics(run_).size() >= 2; }, 120s))
      << test::read_file(dir_ / "coordinator.out");
  // Without its workers, round 3 waits for its deadline: the coordinator keeps serving.
  for (auto& w : workers) w.kill(SIGKILL);
  EXPECT_NE(test::read_file(dir_ / "coordinator.out").find("serving the update store at " + store_endpoint),
            std::string::npos);
  const auto fetch = store_endpoint + "@" + coordinator_key_file().string();
  const auto mine = dir_ / "auditor-store";
  auto r = fl_ledger({"audit", "itest", "--db", (run_ / "ledger.db").string(), "--store", mine.string(), "--from",
                      "1", "--to", "2", "--fetch", fetch, "--key", auditor_key.string()});
  EXPECT_EQ(r.code, 0) << r.out << r.err;
  EXPECT_NE((r.out + r.err).find("fetched from 1 member"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.out.find("audit: ok, 2 round(s)"), std::string::npos) << r.out << r.err;
  EXPECT_TRUE(std::filesystem::exists(mine / "updates"));
  auto again = fl_ledger({"audit", "itest", "--db", (run_ / "ledger.db").string(), "--store", mine.string(),
                          "--from", "1", "--to", "2", "--fetch", fetch, "--key", auditor_key.string()});
  EXPECT_EQ(again.code, 0) << again.out << again.err;
  EXPECT_NE((again.out + again.err).find(" 0 fetched"), std::string::npos) << "all present now: " << again.out << again.err;

  auto refused = fl_ledger({"audit", "itest", "--db", (run_ / "ledger.db").string(), "--store",
                            (dir_ / "stranger-store").string(), "--round", "1", "--fetch", fetch, "--key",
                            (dir_ / "stranger.key").string()});
  EXPECT_EQ(refused.code, 1) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("did not answer"), std::string::npos) << refused.out << refused.err;
  EXPECT_NE((refused.out + refused.err).find("round 1"), std::string::npos) << refused.out << refused.err;
  coordinator.kill(SIGTERM);
  coordinator.wait(30s);
}

}  // namespace
}  // namespace fl
