// A two-level job on 127.0.0.1: the job's owner (fl-coordinator run), two edge coordinators
// (fl-coordinator edge) and two workers behind each, all real processes over CURVE. The owner's
// ledger records one partial result per edge per round; every worker's receipt chains its own
// update through its edge's signed inputs root to the block.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "federation_fixture.hpp"
#include "fl/common/crypto.hpp"
#include "fl/coordinator/owner_redirect.hpp"
#include "support/etcd_cluster.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

class HierarchyFederation : public Federation {
 protected:
  common::KeyPair edge_key(int e) const { return common::key_pair_from_label("itest-edge-" + std::to_string(e)); }
  std::filesystem::path edge_dir(int e) const { return dir_ / ("edge" + std::to_string(e)); }

  // The owner's job lists the edges' keys among its coordinators, so their workers accept them.
  void write_owner_config(int edges, int rounds) {
    JobSpec spec;
    spec.rounds = rounds;
    spec.min_workers = edges;
    write_config(spec);
    std::ofstream out(dir_ / "job.toml", std::ios::app);
    out << "[terms]\ncoordinators = [";
    for (int e = 0; e < edges; ++e) out << (e ? ", " : "") << '"' << common::to_hex(edge_key(e).public_key) << '"';
    out << "]\n";
  }

  // `owner_endpoint`: one endpoint, or the federation's members (then `keys`, one per member).
  ChildProcess start_edge(int e, const std::string& owner_endpoint, int min_workers, const std::string& keys = "") {
    std::filesystem::create_directories(edge_dir(e));
    const auto key = edge_dir(e) / "edge.key";
    EXPECT_TRUE(common::save_key_file(key, edge_key(e)).ok());
    const auto config = edge_dir(e) / "edge.toml";
    std::ofstream(config) << "[edge]\nparent = \"" << owner_endpoint << "\"\nparent_key = \""
                          << (keys.empty() ? common::to_hex(coordinator_key().public_key) : keys)
                          << "\"\njob = \"itest\"\nheartbeat_s = 0.5\n"
                          << "[round]\nmin_workers = " << min_workers
                          << "\nsoft_deadline_s = 60\ndeadline_s = 100\nheartbeat_timeout_s = 30\n"
                          << "[aggregation]\nrule = \"fedavg\"\n[enrolment]\nopen = true\n"
                          << "[network]\nbind = \"tcp://127.0.0.1:0\"\n"
                          << "[output]\ndir = \"" << edge_dir(e).string() << "\"\ncoordinator_key = \"" << key.string()
                          << "\"\n";
    return ChildProcess({test::binary("fl-coordinator"), "edge", "--config", config.string()},
                        dir_ / ("edge" + std::to_string(e) + ".out"));
  }

  std::string edge_endpoint(int e) {
    EXPECT_TRUE(test::wait_until([&] { return !read_endpoint(edge_dir(e)).empty(); }, 60s))
        << test::read_file(dir_ / ("edge" + std::to_string(e) + ".out"));
    return read_endpoint(edge_dir(e));
  }

  std::vector<nlohmann::json> read_lines(const std::filesystem::path& file) {
    std::vector<nlohmann::json> rows;
    std::ifstream in(file);
    std::string line;
    while (std::getline(in, line)) {
      if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
    }
    return rows;
  }
};

TEST_F(HierarchyFederation, TwoEdgesOfTwoWorkersEachTrainOneJobAndEveryReceiptChainsToTheRootBlock) {
  constexpr int kEdges = 2, kPerEdge = 2, kRounds = 3;
  write_owner_config(kEdges, kRounds);
  auto owner = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> edges, workers;
  for (int e = 0; e < kEdges; ++e) edges.push_back(start_edge(e, endpoint, kPerEdge));
  for (int e = 0; e < kEdges; ++e) {
    const auto at = edge_endpoint(e);
    const auto pin = common::to_hex(edge_key(e).public_key);
    for (int i = 0; i < kPerEdge; ++i) {
      const int k = e * kPerEdge + i;
      workers.push_back(start_worker(k, kEdges * kPerEdge, at, 600, {"--coordinator", at, "--coordinator-key", pin}));
    }
  }
  ASSERT_EQ(owner.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  for (int e = 0; e < kEdges; ++e) {
    EXPECT_EQ(edges[e].wait(30s), 0) << test::read_file(dir_ / ("edge" + std::to_string(e) + ".out"));
  }
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);

  // The owner combined one partial result per edge a round, and the model learned.
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), static_cast<std::size_t>(kRounds));
  for (const auto& r : rows) EXPECT_EQ(r["accepted"], kEdges) << r.dump();
  EXPECT_GT(rows.back()["test_accuracy"].get<double>(), 0.5) << rows.back().dump();

  // Each edge combined both of its workers every round.
  std::set<std::string> partials;  // the edges' results of the last round
  for (int e = 0; e < kEdges; ++e) {
    const auto edge_rows = read_lines(edge_dir(e) / "edge_rounds.jsonl");
    ASSERT_EQ(edge_rows.size(), static_cast<std::size_t>(kRounds));
    for (const auto& r : edge_rows) EXPECT_EQ(r["accepted"], kPerEdge) << r.dump();
    partials.insert(edge_rows.back()["update"].get<std::string>());
  }

  // The ledger verifies, and the final model traces to the two edges' partial results.
  int code = -1;
  const auto report = ledger_json(dir_, {"verify"}, &code);
  EXPECT_EQ(code, 0) << report.dump();
  const auto trace = ledger_json(dir_, {"trace", (run_ / "global.flm").string()});
  ASSERT_EQ(trace["rounds"].size(), 1u) << trace.dump();
  std::set<std::string> traced_workers, traced_updates;
  for (const auto& u : trace["rounds"][0]["updates"]) {
    traced_workers.insert(u["worker"].get<std::string>());
    traced_updates.insert(u["update_digest"].get<std::string>());
  }
  EXPECT_EQ(traced_workers, (std::set<std::string>{common::to_hex(edge_key(0).public_key),
                                                   common::to_hex(edge_key(1).public_key)}));
  EXPECT_EQ(traced_updates, partials) << trace.dump();

  // Every worker holds a receipt per round that chains through its edge, and checked it.
  for (int k = 0; k < kEdges * kPerEdge; ++k) {
    const auto file = dir_ / ("w" + std::to_string(k) + ".receipts");
    const auto receipts = read_lines(file);
    ASSERT_EQ(receipts.size(), static_cast<std::size_t>(kRounds)) << test::read_file(file);
    for (const auto& r : receipts) {
      EXPECT_EQ(r["proof_verified"], true) << r.dump();
      ASSERT_TRUE(r.contains("edge")) << r.dump();
      EXPECT_EQ(r["edge"]["key"], common::to_hex(edge_key(k / kPerEdge).public_key));
      EXPECT_EQ(r["edge"]["inputs"], kPerEdge);
    }
    EXPECT_TRUE(partials.count(receipts.back()["edge"]["partial_result"].get<std::string>())) << receipts.back().dump();
    const auto out = dir_ / "verify-proof.out";
    ChildProcess check({test::binary("fl-ledger"), "verify-proof", file.string()}, out);
    EXPECT_EQ(check.wait(60s), 0) << test::read_file(out);
    EXPECT_NE(test::read_file(out).find("of edge"), std::string::npos) << test::read_file(out);
  }
}

// An edge given the federation's members reaches a standby first: the standby names the owner,
// and the edge moves there and serves its workers for the whole job.
TEST_F(HierarchyFederation, AnEdgeThatReachesAStandbyIsSentToTheJobsOwner) {
  write_owner_config(1, 2);
  auto owner = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  const auto standby_key = common::key_pair_from_label("itest-standby");
  auto port = test::free_ports(1);
  ASSERT_TRUE(port.ok()) << port.error().message;
  auto standby = coordinator::OwnerRedirect::start("tcp://127.0.0.1:" + std::to_string((*port)[0]), standby_key,
                                                   "itest", false);
  ASSERT_TRUE(standby.ok()) << standby.error().message;
  (*standby)->set_owner(common::to_hex(coordinator_key().public_key));
  auto edge = start_edge(0, (*standby)->endpoint() + "," + endpoint, 2,
                         common::to_hex(standby_key.public_key) + "," + common::to_hex(coordinator_key().public_key));
  const auto at = edge_endpoint(0);
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) {
    workers.push_back(start_worker(k, 2, at, 600, {"--coordinator", at, "--coordinator-key",
                                                   common::to_hex(edge_key(0).public_key)}));
  }
  ASSERT_EQ(owner.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  EXPECT_EQ(edge.wait(30s), 0) << test::read_file(dir_ / "edge0.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);
  EXPECT_GE((*standby)->redirected(), 1u);
  const auto said = test::read_file(dir_ / "edge0.out");
  EXPECT_NE(said.find("stands by for this job; moving to its owner"), std::string::npos) << said;
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_EQ(r["accepted"], 1) << r.dump();
  EXPECT_EQ(read_lines(dir_ / "w0.receipts").size(), 2u);
}

TEST_F(HierarchyFederation, AnEdgeTheJobsTermsDoNotListIsToldSoAndStops) {
  JobSpec spec;
  spec.min_workers = 1;
  write_config(spec);  // no [terms] coordinators: the owner's key alone
  auto owner = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  auto edge = start_edge(0, endpoint, 1);
  EXPECT_EQ(edge.wait(60s), 1);
  const auto said = test::read_file(dir_ / "edge0.out");
  EXPECT_NE(said.find("do not list this edge's key"), std::string::npos) << said;
  EXPECT_NE(said.find("[terms] coordinators"), std::string::npos) << said;
  owner.kill(SIGTERM);
  owner.wait(30s);
}

}  // namespace
}  // namespace fl
