// Coordinators whose ledger is the replicated etcd chain ([ledger] etcd), as real processes with
// real workers and real etcd members on loopback: three jobs on three coordinators on one
// 3-member cluster make one chain and end with every replica at etcd's head; a block rewritten while a job runs is named by the
// coordinator's alarm and fails verification at its height; an owner paused past its lease
// cannot append, no round is recorded twice, and the job resumes when the owner starts again;
// a killed owner's job is taken over by a standby member with its own key (the two founded the
// chain as a consortium; while standing by it sends workers that reach it to the owner), and the
// workers follow it; with two
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
  // job.toml for job "itest" in run/ and, for each of `more` jobs, job2.toml for "itest-b" in
  // run-b/, job3.toml for "itest-c" in run-c/.
  void write_etcd_configs(const JobSpec& spec, double lease_ttl_s = 10, int more = 0) {
    write_config(spec);
    std::ofstream(dir_ / "job.toml", std::ios::app)
        << "[ledger]\netcd = \"" << endpoints() << "\"\nlease_ttl_s = " << lease_ttl_s << "\n";
    for (int j = 1; j <= more; ++j) {
      std::string text = test::read_file(dir_ / "job.toml");
      text.replace(text.find("id = \"itest\""), 12, "id = \"itest-" + std::string(1, char('a' + j)) + "\"");
      text.replace(text.find(run_.string()), run_.string().size(), extra_run(j).string());
      std::ofstream(dir_ / ("job" + std::to_string(j + 1) + ".toml")) << text;
    }
  }
  std::filesystem::path extra_run(int j) const {
    return tmp_.path() / ("run-" + std::string(1, char('a' + j)));
  }
  ChildProcess start_second_coordinator(int j = 1) {
    const auto n = std::to_string(j + 1);
    return ChildProcess(
        {test::binary("fl-coordinator"), "run", "--config", (dir_ / ("job" + n + ".toml")).string()},
        dir_ / ("coordinator" + n + ".out"));
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
  // Both members proposed blocks of `db`, each with its own key, under the consortium they
  // founded (consortium.toml: the coordinator's key and "itest-standby").
  void expect_both_members_proposed(const std::filesystem::path& db) {
    int code = -1;
    const auto verified = cli({"verify", "--db", db.string(), "--consortium", (dir_ / "consortium.toml").string()},
                              &code);
    ASSERT_EQ(code, 0) << last_cli_;
    EXPECT_EQ(verified["consortium"]["members"].size(), 2u);
    std::set<std::string> proposers;
    for (const auto& blk : cli({"blocks", "--db", db.string()}, &code)) {
      proposers.insert(blk["proposer"].get<std::string>());
    }
    EXPECT_EQ(proposers, (std::set<std::string>{common::to_hex(coordinator_key().public_key),
                                                common::to_hex(common::key_pair_from_label("itest-standby").public_key)}));
  }
  // Two members with their own keys on a 3 s lease, founded as one consortium (both mint,
  // quorum 2); one researcher; both offer the same terms, which allow both (and `more_keys`,
  // hex) to run the job. job.toml is the owner's, standby.toml the standby's (run folder
  // run_b_); the two endpoints are free loopback ports.
  struct Members {
    std::string a, b;
    std::filesystem::path standby_key;
  };
  Members write_owner_and_standby(const JobSpec& spec, const std::vector<std::string>& more_keys = {}) {
    write_etcd_configs(spec, 3);
    Members m;
    m.standby_key = dir_ / "standby.key";
    EXPECT_TRUE(common::save_key_file(m.standby_key, common::key_pair_from_label("itest-standby")).ok());
    EXPECT_TRUE(common::save_key_file(dir_ / "researcher.key", common::key_pair_from_label("itest-researcher")).ok());
    const std::string members = "[\"" + coordinator_key_file().string() + "\", \"" + m.standby_key.string() + "\"";
    std::string coordinators = members;
    for (const auto& k : more_keys) coordinators += ", \"" + k + "\"";
    std::ofstream(dir_ / "consortium.toml") << "members = " << members << "]\nwitnesses = " << members
                                            << "]\nquorum = 2\nminters = " << members << "]\n";
    std::string text = test::read_file(dir_ / "job.toml");
    text += "consortium = \"" + (dir_ / "consortium.toml").string() + "\"\n[terms]\ncoordinators = " + coordinators +
            "]\n";
    const std::string owner_key_line = "coordinator_key = \"" + coordinator_key_file().string() + "\"\n";
    text.replace(text.find(owner_key_line), owner_key_line.size(),
                 owner_key_line + "researcher_key = \"" + (dir_ / "researcher.key").string() + "\"\n");
    std::ofstream(dir_ / "job.toml") << text;
    text.replace(text.find(run_.string()), run_.string().size(), run_b_.string());
    text.replace(text.find(owner_key_line), owner_key_line.size(),
                 "coordinator_key = \"" + m.standby_key.string() + "\"\n");
    std::ofstream(dir_ / "standby.toml") << text;
    auto ports = test::free_ports(2);
    EXPECT_TRUE(ports.ok());
    m.a = "tcp://127.0.0.1:" + std::to_string((*ports)[0]);
    m.b = "tcp://127.0.0.1:" + std::to_string((*ports)[1]);
    return m;
  }
  ChildProcess start_standby(const std::string& bind) {
    return ChildProcess({test::binary("fl-coordinator"), "run", "--config", (dir_ / "standby.toml").string(), "--bind",
                         bind},
                        dir_ / "standby.out");
  }

  std::size_t rows_recorded(const std::filesystem::path& run) { return read_metrics(run).size(); }

  std::filesystem::path run_b_ = tmp_.path() / "run-b";
  std::unique_ptr<EtcdCluster> cluster_;
  std::string last_cli_;
};

TEST_F(EtcdFederation, ThreeJobsOnThreeCoordinatorsAtOnceMakeOneChainAndEveryReplicaEndsAtEtcdsHead) {
  start_cluster(3);
  JobSpec spec;
  spec.rounds = 3;
  spec.min_workers = 2;
  write_etcd_configs(spec, 10, 2);
  auto a = start_coordinator();
  auto b = start_second_coordinator(1);
  auto c = start_second_coordinator(2);
  const auto endpoint_a = wait_for_endpoint();
  for (int j = 1; j <= 2; ++j)
    ASSERT_TRUE(test::wait_until([&] { return !read_endpoint(extra_run(j)).empty(); }, 60s));
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 6; ++k)
    workers.push_back(start_worker(k, 6, k < 2 ? endpoint_a : read_endpoint(extra_run(k / 2))));
  ASSERT_EQ(a.wait(180s), 0) << test::read_file(dir_ / "coordinator.out");
  ASSERT_EQ(b.wait(180s), 0) << test::read_file(dir_ / "coordinator2.out");
  ASSERT_EQ(c.wait(180s), 0) << test::read_file(dir_ / "coordinator3.out");

  std::set<std::string> heads;
  for (const auto& db : {run_ / "ledger.db", extra_run(1) / "ledger.db", extra_run(2) / "ledger.db",
                         dir_ / "fresh-replica.db"}) {
    int code = -1;
    const auto j = replicate(db, &code);
    ASSERT_EQ(code, 0) << db << ": " << last_cli_;
    EXPECT_EQ(j["etcd"]["height"], 9) << last_cli_;  // genesis and 3 rounds of each job
    EXPECT_EQ(j["replica"]["height"], j["etcd"]["height"]) << last_cli_;
    EXPECT_EQ(j["replica"]["head"], j["etcd"]["head"]) << last_cli_;
    heads.insert(j["etcd"]["head"].get<std::string>());
  }
  EXPECT_EQ(heads.size(), 1u) << "one chain, no fork";
  for (const auto* job : {"itest", "itest-b", "itest-c"})
    EXPECT_EQ(rounds_in(dir_ / "fresh-replica.db", job), (std::set<std::uint64_t>{1, 2, 3})) << job;
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

// An edge coordinator given both members follows the job to the standby when the owner dies:
// it registers there, and its workers' rounds go on being recorded through it.
TEST_F(EtcdFederation, AnEdgeFollowsTheJobToTheStandbyWhenTheOwnerIsKilled) {
  start_cluster(3);
  JobSpec spec;
  spec.rounds = 5;
  spec.min_workers = 1;
  const auto edge_key = common::key_pair_from_label("itest-edge");
  const auto m = write_owner_and_standby(spec, {common::to_hex(edge_key.public_key)});
  auto owner = start_coordinator(m.a);
  wait_for_endpoint();
  auto standby = start_standby(m.b);
  const auto edge_dir = dir_ / "edge";
  std::filesystem::create_directories(edge_dir);
  ASSERT_TRUE(common::save_key_file(edge_dir / "edge.key", edge_key).ok());
  std::ofstream(edge_dir / "edge.toml") << "[edge]\nparent = \"" << m.a << "," << m.b << "\"\nparent_key = \""
                                        << common::to_hex(coordinator_key().public_key) << ","
                                        << common::to_hex(common::key_pair_from_label("itest-standby").public_key)
                                        << "\"\nheartbeat_s = 0.5\n[round]\nmin_workers = 2\nheartbeat_timeout_s = 30\n"
                                        << "[aggregation]\nrule = \"fedavg\"\n[enrolment]\nopen = true\n"
                                        << "[network]\nbind = \"tcp://127.0.0.1:0\"\n[output]\ndir = \""
                                        << edge_dir.string() << "\"\ncoordinator_key = \""
                                        << (edge_dir / "edge.key").string() << "\"\n";
  ChildProcess edge({test::binary("fl-coordinator"), "edge", "--config", (edge_dir / "edge.toml").string()},
                    dir_ / "edge.out");
  ASSERT_TRUE(test::wait_until([&] { return !read_endpoint(edge_dir).empty(); }, 60s)) << test::read_file(dir_ / "edge.out");
  const auto at = read_endpoint(edge_dir);
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) {
    workers.push_back(start_worker(k, 2, at, 0, {"--coordinator", at, "--coordinator-key", common::to_hex(edge_key.public_key)}));
  }
  ASSERT_TRUE(test::wait_until([&] { return rows_recorded(run_) >= 2; }, 120s)) << test::read_file(dir_ / "coordinator.out");
  owner.kill(SIGKILL);
  (void)owner.wait(10s);
  ASSERT_EQ(standby.wait(180s), 0) << test::read_file(dir_ / "standby.out");
  EXPECT_EQ(edge.wait(30s), 0) << test::read_file(dir_ / "edge.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0) << test::read_file(dir_ / "worker0.out");
  const auto said = test::read_file(dir_ / "edge.out");
  EXPECT_NE(said.find("registering with the next member"), std::string::npos) << said;
  int code = -1;
  (void)replicate(dir_ / "final.db", &code);
  ASSERT_EQ(code, 0) << last_cli_;
  EXPECT_EQ(rounds_in(dir_ / "final.db", "itest"), (std::set<std::uint64_t>{1, 2, 3, 4, 5}));
  // The standby's rounds took the edge's partial results.
  const auto rows = read_metrics(run_b_);
  ASSERT_FALSE(rows.empty());
  for (const auto& r : rows) EXPECT_EQ(r["accepted"], 1) << r.dump();
}

TEST_F(EtcdFederation, WhenTheJobsOwnerIsKilledAnotherMemberTakesTheJobOverAndItsWorkersFollow) {
  start_cluster(3);
  JobSpec spec;
  spec.rounds = 5;
  spec.min_workers = 2;
  const auto members = write_owner_and_standby(spec);
  const auto& a = members.a;
  const auto& b = members.b;
  const auto& standby_key = members.standby_key;
  auto owner = start_coordinator(a);
  wait_for_endpoint();
  auto standby = start_standby(b);
  // The standby answers workers that reach it with the owner's key; worker 1 lists it first.
  ASSERT_TRUE(test::wait_until(
      [&] { return test::read_file(dir_ / "standby.out").find("standing by: workers reaching") != std::string::npos; },
      60s))
      << test::read_file(dir_ / "standby.out");
  std::vector<ChildProcess> workers;
  workers.push_back(start_worker(
      0, 2, a, 0,
      {"--coordinator", a + "," + b, "--coordinator-key", coordinator_key_file().string() + "," + standby_key.string()}));
  workers.push_back(start_worker(
      1, 2, b, 0,
      {"--coordinator", b + "," + a, "--coordinator-key", standby_key.string() + "," + coordinator_key_file().string()}));
  ASSERT_TRUE(test::wait_until([&] { return rows_recorded(run_) >= 2; }, 120s))
      << test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(test::read_file(dir_ / "worker1.out").find("stands by for this job; moving to its owner"),
            std::string::npos)
      << "the standby sent worker 1 to the owner: " << test::read_file(dir_ / "worker1.out");
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
  expect_both_members_proposed(dir_ / "final.db");
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

// Test 7, the worker's side: job A runs, the consortium's witness cosigns its head and publishes
// the cosignature in etcd; job B's tasks carry that final checkpoint and the workers keep it.
// Then the last blocks are deleted from etcd and the head rewound below it: the honest witness
// refuses to cosign the shorter chain, a witness that forgot its view cosigns it, and when job C's
// tasks carry that lower checkpoint every worker stops (exit 4) with both cosigned checkpoints
// as evidence, which `fl-ledger checkpoint verify` accepts as proof of misbehaviour.
TEST_F(EtcdFederation, AWorkerHoldingAFinalCheckpointCatchesTheHeadRewoundBelowIt) {
  start_cluster(1);
  JobSpec spec;
  spec.rounds = 3;
  spec.min_workers = 2;
  write_etcd_configs(spec, 10, 2);
  const auto witness_key = dir_ / "witness.key";
  ASSERT_TRUE(common::save_key_file(witness_key, common::key_pair_from_label("itest-witness")).ok());
  const std::string member = "[\"" + coordinator_key_file().string() + "\"]";
  std::ofstream(dir_ / "consortium.toml") << "members = " << member << "\nwitnesses = [\"" << witness_key.string()
                                          << "\"]\nquorum = 1\nminters = " << member << "\n";
  for (const auto* file : {"job.toml", "job2.toml", "job3.toml"})
    std::ofstream(dir_ / file, std::ios::app) << "consortium = \"" << (dir_ / "consortium.toml").string() << "\"\n";
  const std::vector<std::string> check = {"--witness", witness_key.string(), "--witness-quorum", "1"};
  const auto run_job = [&](ChildProcess coordinator, const std::filesystem::path& run) {
    ASSERT_TRUE(test::wait_until([&] { return !read_endpoint(run).empty(); }, 60s));
    std::vector<ChildProcess> workers;
    for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, read_endpoint(run), 600, {}, check));
    ASSERT_EQ(coordinator.wait(120s), 0) << test::read_file(dir_ / "coordinator.out");
    for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0) << test::read_file(dir_ / "worker0.out");
  };
  // The witness syncs a replica of etcd's chain, cosigns its head and publishes the cosignature.
  const auto cosign = [&](const std::string& view, const std::string& replica) {
    int code = -1;
    (void)replicate(dir_ / replica, &code);
    EXPECT_EQ(code, 0) << last_cli_;
    if (!std::filesystem::exists(dir_ / view)) {
      (void)cli({"witness", "init", "--key", witness_key.string(), "--state", (dir_ / view).string()}, &code);
      EXPECT_EQ(code, 0) << last_cli_;
    }
    (void)cli({"witness", "cosign", "--db", (dir_ / replica).string(), "--key", witness_key.string(), "--state",
               (dir_ / view).string(), "--publish", endpoints()},
              &code);
    return code;
  };

  run_job(start_coordinator(), run_);
  ASSERT_EQ(cosign("view", "witness.db"), 0) << last_cli_;  // height 3: genesis and 3 rounds
  run_job(start_second_coordinator(1), extra_run(1));
  const auto held_file = dir_ / "w0.receipts.checkpoint.json";
  ASSERT_TRUE(std::filesystem::exists(held_file)) << test::read_file(dir_ / "worker0.out");
  EXPECT_NE(test::read_file(held_file).find("\"height\": 3"), std::string::npos) << test::read_file(held_file);
  EXPECT_NE(test::read_file(dir_ / "worker0.out").find("ledger final at height 3"), std::string::npos);

  // Blocks 2-6 deleted, the head rewound to block 1, the published cosignatures removed.
  int code = -1;
  std::map<std::uint64_t, std::string> hash_at;
  for (const auto& blk : cli({"blocks", "--db", (extra_run(1) / "ledger.db").string()}, &code))
    hash_at[blk["height"].get<std::uint64_t>()] = blk["hash"].get<std::string>();
  ASSERT_EQ(hash_at.size(), 7u) << last_cli_;
  ledger::EtcdStoreOptions options;
  options.etcd = cluster_->options();
  auto store = ledger::EtcdBlockStore::open(options);
  ASSERT_TRUE(store.ok()) << store.error().to_string();
  auto& client = (*store)->client();
  const auto prefix = (*store)->prefix();
  ASSERT_TRUE(client.erase(ledger::block_key(prefix, 2), ledger::block_key(prefix, 7)).ok());
  ASSERT_TRUE(client.erase(prefix + "checkpoint/", ledger::prefix_end(prefix + "checkpoint/")).ok());
  ASSERT_TRUE(client.put(prefix + "head", "{\"height\":1,\"hash\":\"" + hash_at[1] + "\"}").ok());

  EXPECT_EQ(cosign("view", "rewound.db"), 1) << "the honest witness refuses: " << last_cli_;
  EXPECT_NE(last_cli_.find("went back from height 3"), std::string::npos) << last_cli_;
  ASSERT_EQ(cosign("forgetful-view", "rewound-2.db"), 0) << last_cli_;  // cosigns height 1

  auto c = start_second_coordinator(2);
  ASSERT_TRUE(test::wait_until([&] { return !read_endpoint(extra_run(2)).empty(); }, 60s))
      << test::read_file(dir_ / "coordinator3.out");
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, read_endpoint(extra_run(2)), 600, {}, check));
  for (auto& w : workers) EXPECT_EQ(w.wait(60s), 4) << test::read_file(dir_ / "worker0.out");
  const auto log = test::read_file(dir_ / "worker0.out");
  EXPECT_NE(log.find("LEDGER MISBEHAVIOUR"), std::string::npos) << log;
  EXPECT_NE(log.find("rewound from height 3 to 1"), std::string::npos) << log;
  EXPECT_NE(test::read_file(held_file).find("\"height\": 3"), std::string::npos) << "the higher one is kept";
  const auto evidence = dir_ / "w0.receipts.checkpoint.json.misbehaviour.json";
  (void)cli({"checkpoint", "verify", evidence.string(), "--witness", witness_key.string(), "--k", "1"}, &code);
  EXPECT_EQ(code, 0) << last_cli_;
  c.kill(SIGTERM);
  (void)c.wait(30s);
}

}  // namespace
}  // namespace fl
