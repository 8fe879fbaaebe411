// Coordinators whose ledger is the replicated etcd chain ([ledger] etcd), as real processes with
// real workers and real etcd members on loopback: two coordinators on one 3-member cluster end
// with every replica at etcd's head; a block rewritten while a job runs is named by the
// coordinator's alarm and fails verification at its height; an owner paused past its lease
// cannot append, no round is recorded twice, and the job resumes when the owner starts again;
// a killed owner's job is taken over by a standby member with its own key (the two founded the
// chain as a consortium), and the workers follow it; with two
// of three members down nothing is recorded, and every member ends at one head.
// Skipped when etcd is not installed.
#include <fstream>

#include "federation_fixture.hpp"
#include "fl/ledger/etcd_block_store.hpp"
#include "support/etcd_cluster.hpp"

namespace fl {
namespace {

using test::EtcdCluster;

class EtcdFederation : public Federation {
 protected:
  void start_cluster(int members) {
    if (!EtcdCluster::binary())
      GTEST_SKIP() << "etcd is not installed (apt-get install etcd-server)";
    auto c = EtcdCluster::start(members);
    ASSERT_TRUE(c.ok()) << c.error().to_string();
    cluster_ = std::move(c).value();
  }
  std::string endpoints() const {
    std::string s;
    for (const auto& u : cluster_->client_urls()) s += (s.empty() ? "" : ",") + u;
    return s;
  }
  // job.toml for job "itest" in run/ and, with `second`, job2.toml for "itest-b" in run-b/.
  void write_etcd_configs(const JobSpec& spec, double lease_ttl_s = 10, bool second = false) {
    write_config(spec);
    std::ofstream(dir_ / "job.toml", std::ios::app)
        << "[ledger]\netcd = \"" << endpoints() << "\"\nlease_ttl_s = " << lease_ttl_s << "\n";
    if (!second) return;
    std::string text = test::read_file(dir_ / "job.toml");
    text.replace(text.find("id = \"itest\""), 12, "id = \"itest-b\"");
    text.replace(text.find(run_.string()), run_.string().size(), run_b_.string());
    std::ofstream(dir_ / "job2.toml") << text;
  }
  ChildProcess start_second_coordinator() {
    return ChildProcess(
        {test::binary("fl-coordinator"), "run", "--config", (dir_ / "job2.toml").string()},
        dir_ / "coordinator2.out");
  }
  // `fl-ledger ARGS... --json`, parsed; its exit code in `code`.
  nlohmann::json cli(std::vector<std::string> args, int* code) {
    std::vector<std::string> argv = {test::binary("fl-ledger")};
    argv.insert(argv.end(), args.begin(), args.end());
    argv.push_back("--json");
    const auto out = dir_ / "cli.out";
    std::filesystem::remove(out);
    ChildProcess p(argv, out);
    *code = p.wait(60s).value_or(-1);
    last_cli_ = test::read_file(out);
    const auto brace = last_cli_.find_first_of("{[");
    return nlohmann::json::parse(brace == std::string::npos ? "" : last_cli_.substr(brace), nullptr,
                                 false);
  }
  nlohmann::json replicate(const std::filesystem::path& db, int* code) {
    return cli({"replicate", "--etcd", endpoints(), "--db", db.string()}, code);
  }
  // Rounds of `job` in the replica `db` (each must appear once).
  std::set<std::uint64_t> rounds_in(const std::filesystem::path& db, const std::string& job) {
    int code = -1;
    std::vector<std::string> argv = {
        test::binary("fl-ledger"), "rounds", job, "--db", db.string(), "--json"};
    const auto out = dir_ / "rounds.out";
    std::filesystem::remove(out);
    ChildProcess p(argv, out);
    code = p.wait(60s).value_or(-1);
    EXPECT_EQ(code, 0) << test::read_file(out);
    std::set<std::uint64_t> seen;
    const auto rows = nlohmann::json::parse(test::read_file(out), nullptr, false);
    if (!rows.is_array()) return seen;
    for (const auto& r : rows) {
      const auto round = r["round"].get<std::uint64_t>();
      EXPECT_TRUE(seen.insert(round).second)
          << "round " << round << " of " << job << " recorded twice";
    }
    return seen;
  }
  std::size_t rows_recorded(const std::filesystem::path& run) { return read_metrics(run).size(); }

  std::filesystem::path run_b_ = tmp_.path() / "run-b";
  std::unique_ptr<EtcdCluster> cluster_;
  std::string last_cli_;
};

TEST_F(EtcdFederation, TwoCoordinatorsOnOneThreeMemberClusterEndWithEveryReplicaAtEtcdsHead) {
  start_cluster(3);
  JobSpec spec;
  spec.rounds = 3;
  spec.min_workers = 2;
  write_etcd_configs(spec, 10, true);
  auto a = start_coordinator();
  auto b = start_second_coordinator();
  const auto endpoint_a = wait_for_endpoint();
  ASSERT_TRUE(test::wait_until([&] { return !read_endpoint(run_b_).empty(); }, 60s));
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 4, endpoint_a));
  for (int k = 2; k < 4; ++k) workers.push_back(start_worker(k, 4, read_endpoint(run_b_)));
  ASSERT_EQ(a.wait(120s), 0) << test::read_file(dir_ / "coordinator.out");
  ASSERT_EQ(b.wait(120s), 0) << test::read_file(dir_ / "coordinator2.out");

  std::set<std::string> heads;
  for (const auto& db : {run_ / "ledger.db", run_b_ / "ledger.db", dir_ / "fresh-replica.db"}) {
    int code = -1;
    const auto j = replicate(db, &code);
    ASSERT_EQ(code, 0) << db << ": " << last_cli_;
    EXPECT_EQ(j["etcd"]["height"], 6) << last_cli_;  // genesis and 3 rounds of each job
    EXPECT_EQ(j["replica"]["height"], j["etcd"]["height"]) << last_cli_;
    EXPECT_EQ(j["replica"]["head"], j["etcd"]["head"]) << last_cli_;
    heads.insert(j["etcd"]["head"].get<std::string>());
  }
  EXPECT_EQ(heads.size(), 1u);
  EXPECT_EQ(rounds_in(dir_ / "fresh-replica.db", "itest"), (std::set<std::uint64_t>{1, 2, 3}));
  EXPECT_EQ(rounds_in(dir_ / "fresh-replica.db", "itest-b"), (std::set<std::uint64_t>{1, 2, 3}));
}

TEST_F(EtcdFederation, ABlockRewrittenWhileTheJobRunsRaisesAnAlarmNamingItsHeight) {
  start_cluster(1);
  JobSpec spec;
  spec.rounds = 4;
  spec.min_workers = 2;
  write_etcd_configs(spec);
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint, 0));
  ASSERT_TRUE(test::wait_until([&] { return rows_recorded(run_) >= 1; }, 90s))
      << test::read_file(dir_ / "coordinator.out");

  // Block 1 (round 1) rewritten behind the ledger: a reward's amount changed by one bit.
  ledger::EtcdStoreOptions options;
  options.etcd = cluster_->options();
  auto store = ledger::EtcdBlockStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  const std::string key = ledger::block_key((*store)->prefix(), 1);
  auto raw = (*store)->client().get(key);
  ASSERT_TRUE(raw.ok() && raw->has_value());
  const std::string value = (*raw)->value;
  auto stored = ledger::decode_stored_block(
      std::span(reinterpret_cast<const std::uint8_t*>(value.data()) + 5, value.size() - 5), key);
  ASSERT_TRUE(stored.ok()) << stored.error().to_string();
  stored->txs.back().body.back() ^= 1;
  const auto bytes = ledger::encode_stored_block(*stored);
  ASSERT_TRUE((*store)
                  ->client()
                  .put(key, value.substr(0, 5) + std::string(bytes.begin(), bytes.end()))
                  .ok());

  ASSERT_TRUE(test::wait_until(
      [&] {
        return test::read_file(run_ / "alarms.jsonl").find("\"height\":1") != std::string::npos;
      },
      10s))
      << test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(test::read_file(dir_ / "coordinator.out").find("LEDGER ALARM: block 1"),
            std::string::npos);
  coordinator.kill(SIGTERM);
  (void)coordinator.wait(30s);

  int code = -1;
  (void)replicate(dir_ / "fresh-replica.db", &code);  // copies the rewritten block, fails there
  EXPECT_EQ(code, 1) << last_cli_;
  EXPECT_NE(last_cli_.find("block 1"), std::string::npos) << last_cli_;
  (void)replicate(run_ / "ledger.db", &code);  // the coordinator's replica holds the original
  EXPECT_EQ(code, 1) << last_cli_;
  EXPECT_NE(last_cli_.find("block 1 in"), std::string::npos) << last_cli_;
}

TEST_F(EtcdFederation, APausedOwnerPastItsLeaseCannotAppendAndTheJobResumesWithoutARepeat) {
  start_cluster(1);
  JobSpec spec;
  spec.rounds = 5;
  spec.min_workers = 2;
  write_etcd_configs(spec, 3);
  auto owner = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint, 0));
  ASSERT_TRUE(test::wait_until([&] { return rows_recorded(run_) >= 1; }, 90s))
      << test::read_file(dir_ / "coordinator.out");

  owner.kill(SIGSTOP);
  std::this_thread::sleep_for(7s);  // past the 3 s lease: etcd ends it and the owner key goes
  owner.kill(SIGCONT);
  ASSERT_EQ(owner.wait(60s), 1) << test::read_file(dir_ / "coordinator.out");
  const auto paused_log = test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(paused_log.find("owner lease"), std::string::npos) << paused_log;

  int code = -1;
  (void)replicate(dir_ / "after-pause.db", &code);
  ASSERT_EQ(code, 0) << last_cli_;
  const auto before = rounds_in(dir_ / "after-pause.db", "itest");
  ASSERT_FALSE(before.empty());
  EXPECT_LT(before.size(), 5u);

  // The owner started again on its run folder takes the lease, resumes at the next round.
  std::filesystem::remove(run_ / "endpoint");
  auto again = start_coordinator(endpoint);
  ASSERT_EQ(again.wait(120s), 0) << test::read_file(dir_ / "coordinator.out");
  (void)replicate(dir_ / "final.db", &code);
  ASSERT_EQ(code, 0) << last_cli_;
  EXPECT_EQ(rounds_in(dir_ / "final.db", "itest"), (std::set<std::uint64_t>{1, 2, 3, 4, 5}));
  // Both members proposed blocks, each with its own key, under the consortium they founded.
  const auto verified = cli({"verify", "--db", (dir_ / "final.db").string(), "--consortium",
                             (dir_ / "consortium.toml").string()}, &code);
  ASSERT_EQ(code, 0) << last_cli_;
  EXPECT_EQ(verified["consortium"]["members"].size(), 2u);
  std::set<std::string> proposers;
  for (const auto& blk : cli({"blocks", "--db", (dir_ / "final.db").string()}, &code)) {
    proposers.insert(blk["proposer"].get<std::string>());
  }
  EXPECT_EQ(proposers, (std::set<std::string>{common::to_hex(coordinator_key().public_key),
                                              common::to_hex(common::key_pair_from_label("itest-standby").public_key)}));
}

TEST_F(EtcdFederation,
       WithTwoOfThreeMembersKilledNoRoundIsRecordedUntilOneReturnsAndEveryMemberEndsAtOneHead) {
  start_cluster(3);
  JobSpec spec;
  spec.rounds = 4;
  spec.min_workers = 2;
  write_etcd_configs(spec);
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint, 0));
  ASSERT_TRUE(test::wait_until([&] { return rows_recorded(run_) >= 1; }, 90s))
      << test::read_file(dir_ / "coordinator.out");
  cluster_->kill(0);
  cluster_->kill(1);
  std::this_thread::sleep_for(1s);
  const auto before = rows_recorded(run_);
  std::this_thread::sleep_for(6s);  // rounds train and close; none can be recorded
  EXPECT_EQ(rows_recorded(run_), before) << "a round was recorded without a quorum";
  ASSERT_TRUE(cluster_->restart(0).ok());
  ASSERT_EQ(coordinator.wait(180s), 0) << test::read_file(dir_ / "coordinator.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);
  ASSERT_TRUE(cluster_->restart(1).ok());  // the member that missed the rest catches up
  ASSERT_TRUE(cluster_->wait_for_leader(20s).ok());

  // Each member alone serves the same chain: every round once, one head.
  int code0 = -1;
  const auto expected = replicate(run_ / "ledger.db", &code0);
  ASSERT_EQ(code0, 0) << last_cli_;
  std::set<std::string> heads;
  const auto urls = cluster_->client_urls();
  for (std::size_t i = 0; i < urls.size(); ++i) {
    const auto db = dir_ / ("member" + std::to_string(i) + ".db");
    int code = -1;
    std::string head;
    for (int attempt = 0; attempt < 20; ++attempt) {  // a returning member may lag a moment
      std::filesystem::remove(db);
      const auto j = cli({"replicate", "--etcd", urls[i], "--db", db.string()}, &code);
      if (code == 0 && j["etcd"]["height"] == expected["etcd"]["height"]) {
        head = j["etcd"]["head"].get<std::string>();
        break;
      }
      std::this_thread::sleep_for(250ms);
    }
    ASSERT_FALSE(head.empty()) << "member " << i << ": " << last_cli_;
    heads.insert(head);
    EXPECT_EQ(rounds_in(db, "itest"), (std::set<std::uint64_t>{1, 2, 3, 4}));
  }
  EXPECT_EQ(heads.size(), 1u);
}

TEST_F(EtcdFederation, WhenTheJobsOwnerIsKilledAnotherMemberTakesTheJobOverAndItsWorkersFollow) {
  start_cluster(3);
  JobSpec spec;
  spec.rounds = 5;
  spec.min_workers = 2;
  write_etcd_configs(spec, 3);  // a 3 s lease
  // Two members with their own keys, founded as one consortium (both mint, quorum 2); one
  // researcher; both offer the same terms, which allow both to run the job.
  const auto standby_key = dir_ / "standby.key";
  ASSERT_TRUE(common::save_key_file(standby_key, common::key_pair_from_label("itest-standby")).ok());
  ASSERT_TRUE(common::save_key_file(dir_ / "researcher.key", common::key_pair_from_label("itest-researcher")).ok());
  const std::string members = "[\"" + coordinator_key_file().string() + "\", \"" + standby_key.string() + "\"]";
  std::ofstream(dir_ / "consortium.toml") << "members = " << members << "\nwitnesses = " << members
                                          << "\nquorum = 2\nminters = " << members << "\n";
  std::string text = test::read_file(dir_ / "job.toml");
  text += "consortium = \"" + (dir_ / "consortium.toml").string() + "\"\n[terms]\ncoordinators = " + members + "\n";
  const std::string owner_key_line = "coordinator_key = \"" + coordinator_key_file().string() + "\"\n";
  text.replace(text.find(owner_key_line), owner_key_line.size(),
               owner_key_line + "researcher_key = \"" + (dir_ / "researcher.key").string() + "\"\n");
  std::ofstream(dir_ / "job.toml") << text;
  // The standby: the same job, its own key and run folder.
  text.replace(text.find(run_.string()), run_.string().size(), run_b_.string());
  text.replace(text.find(owner_key_line), owner_key_line.size(),
               "coordinator_key = \"" + standby_key.string() + "\"\n");
  std::ofstream(dir_ / "standby.toml") << text;
  auto ports = test::free_ports(2);
  ASSERT_TRUE(ports.ok());
  const std::string a = "tcp://127.0.0.1:" + std::to_string((*ports)[0]);
  const std::string b = "tcp://127.0.0.1:" + std::to_string((*ports)[1]);
  auto owner = start_coordinator(a);
  wait_for_endpoint();
  ChildProcess standby({test::binary("fl-coordinator"), "run", "--config",
                        (dir_ / "standby.toml").string(), "--bind", b},
                       dir_ / "standby.out");
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) {
    workers.push_back(start_worker(
        k, 2, a, 0,
        {"--coordinator", a + "," + b, "--coordinator-key",
         coordinator_key_file().string() + "," + standby_key.string()}));
  }
  ASSERT_TRUE(test::wait_until([&] { return rows_recorded(run_) >= 2; }, 120s))
      << test::read_file(dir_ / "coordinator.out");
  EXPECT_FALSE(std::filesystem::exists(run_b_ / "endpoint"))
      << "the standby serves nothing while the owner lives";
  owner.kill(SIGKILL);
  (void)owner.wait(10s);
  const auto killed = std::chrono::steady_clock::now();
  ASSERT_TRUE(test::wait_until([&] { return std::filesystem::exists(run_b_ / "endpoint"); }, 30s))
      << test::read_file(dir_ / "standby.out");
  const double takeover_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - killed).count();
  std::cout << "takeover: the standby served the job " << takeover_s
            << " s after the owner was killed\n";
  EXPECT_LT(takeover_s, 3 + 2 + 3) << "lease TTL + 2 s, and the standby's own start-up";
  ASSERT_EQ(standby.wait(180s), 0) << test::read_file(dir_ / "standby.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0) << test::read_file(dir_ / "worker0.out");
  const auto log = test::read_file(dir_ / "standby.out");
  EXPECT_NE(log.find("taking over job 'itest' after round"), std::string::npos) << log;

  int code = -1;
  (void)replicate(dir_ / "final.db", &code);
  ASSERT_EQ(code, 0) << last_cli_;
  EXPECT_EQ(rounds_in(dir_ / "final.db", "itest"), (std::set<std::uint64_t>{1, 2, 3, 4, 5}));
  // Both members proposed blocks, each with its own key, under the consortium they founded.
  const auto verified = cli({"verify", "--db", (dir_ / "final.db").string(), "--consortium",
                             (dir_ / "consortium.toml").string()}, &code);
  ASSERT_EQ(code, 0) << last_cli_;
  EXPECT_EQ(verified["consortium"]["members"].size(), 2u);
  std::set<std::string> proposers;
  for (const auto& blk : cli({"blocks", "--db", (dir_ / "final.db").string()}, &code)) {
    proposers.insert(blk["proposer"].get<std::string>());
  }
  EXPECT_EQ(proposers, (std::set<std::string>{common::to_hex(coordinator_key().public_key),
                                              common::to_hex(common::key_pair_from_label("itest-standby").public_key)}));
  // Receipts from before the takeover name blocks of the final chain.
  const auto blocks = cli({"blocks", "--db", (dir_ / "final.db").string()}, &code);
  ASSERT_EQ(code, 0) << last_cli_;
  std::map<std::uint64_t, std::string> hash_at;
  for (const auto& blk : blocks)
    hash_at[blk["height"].get<std::uint64_t>()] = blk["hash"].get<std::string>();
  std::ifstream receipts(dir_ / "w0.receipts");
  std::string line;
  int checked = 0;
  while (std::getline(receipts, line)) {
    const auto r = nlohmann::json::parse(line);
    EXPECT_EQ(hash_at[r["block_height"].get<std::uint64_t>()], r["block_hash"].get<std::string>())
        << line;
    ++checked;
  }
  EXPECT_GE(checked, 3) << "receipts from both coordinators";
}

}  // namespace
}  // namespace fl
