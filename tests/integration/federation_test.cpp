// A coordinator and worker processes on 127.0.0.1, a few rounds on a Fashion-MNIST subset.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <thread>

#include "fl/common/crypto.hpp"
#include "fl/common/zmq_channel.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"
#include "federation_fixture.hpp"
#include "support/worker_connection.hpp"

namespace fl {
namespace {

TEST_F(Federation, ThreeWorkersTrainAndAccuracyRises) {
  write_config(JobSpec{});
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 3; ++k) workers.push_back(start_worker(k, 3, endpoint));
  ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);

  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 3u);
  for (const auto& r : rows) {
    EXPECT_EQ(r["accepted"], 3);
    EXPECT_EQ(r["rejected"], 0);
  }
  EXPECT_GT(rows[0]["test_accuracy"].get<double>(), 0.3);  // chance is 0.1
  EXPECT_GT(rows[2]["test_accuracy"].get<double>(), rows[0]["test_accuracy"].get<double>());
  EXPECT_GT(rows[2]["test_accuracy"].get<double>(), 0.6);
  EXPECT_TRUE(std::filesystem::exists(run_ / "global.flm"));
  EXPECT_TRUE(std::filesystem::exists(run_ / "checkpoints" / "round-000003.flm"));
  EXPECT_TRUE(std::filesystem::exists(run_ / "accuracy.svg"));  // drawn when the job ends
  EXPECT_TRUE(std::filesystem::exists(run_ / "rewards.svg"));
  // The ledger: one block per round after genesis, verified; the final model traces to round 3
  // and its three workers; the rewards add up to what was minted.
  int code = -1;
  const auto report = ledger_json(dir_, {"verify"}, &code);
  EXPECT_EQ(code, 0) << report.dump();
  EXPECT_EQ(report["ok"], true);
  EXPECT_EQ(report["blocks"], 4);
  EXPECT_EQ(report["minted"], 3000);
  const auto trace = ledger_json(dir_, {"trace", (run_ / "global.flm").string()});
  ASSERT_EQ(trace["rounds"].size(), 1u) << trace.dump();
  EXPECT_EQ(trace["rounds"][0]["round"], 3);
  std::set<std::string> traced;
  std::uint64_t paid = 0;
  for (const auto& u : trace["rounds"][0]["updates"]) {
    traced.insert(u["worker"].get<std::string>());
    paid += u["reward"].get<std::uint64_t>();
  }
  std::set<std::string> expected;
  for (int k = 0; k < 3; ++k) {
    expected.insert(common::to_hex(common::key_pair_from_label("itest-worker-" + std::to_string(k)).public_key));
  }
  EXPECT_EQ(traced, expected);
  EXPECT_EQ(paid, 1000u);
  std::uint64_t balances = 0;
  for (const auto& a : ledger_json(dir_, {"accounts"})) balances += a["balance"].get<std::uint64_t>();
  EXPECT_EQ(balances, 3000u);
  // Each worker checked its receipts' Merkle proofs against the block roots.
  const std::string receipts = test::read_file(dir_ / "w0.receipts");
  EXPECT_NE(receipts.find("\"proof_verified\":true"), std::string::npos) << receipts;
  EXPECT_EQ(receipts.find("\"proof_verified\":false"), std::string::npos);
}

TEST_F(Federation, WorkerKilledMidRoundDoesNotStopTheRound) {
  JobSpec spec;
  spec.soft_deadline_s = 3;
  spec.quorum = 0.6;
  write_config(spec);
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 3, endpoint));
  workers.push_back(start_worker(2, 3, endpoint, 0));  // the slow one, killed while it trains
  // Once round 1 is written, round 2's tasks are out: kill a worker before it can answer.
  ASSERT_TRUE(test::wait_until([&] { return read_metrics(run_).size() >= 1; }, 180s));
  workers[2].kill(SIGKILL);
  ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[1]["sampled"], 3);
  EXPECT_EQ(rows[1]["accepted"], 2);
  EXPECT_EQ(rows[1]["close_reason"], "quorum after soft deadline");
  EXPECT_GT(rows[2]["test_accuracy"].get<double>(), 0.5);
}

// A malicious client speaking the protocol by hand: registers its key, then answers the first
// round task with a crafted update.
enum class Forgery { kWrongSignature, kWrongShape };

void run_malicious_client(const std::string& endpoint, const common::PublicKey& coordinator,
                          const std::string& label, Forgery forgery, std::string* ack_reason) {
  const auto key = common::key_pair_from_label(label);
  test::WorkerConnection connection(endpoint, key, coordinator);
  auto& s = connection.socket();
  auto registered = connection.register_worker(120s);
  if (!registered || !registered->accepted) {
    *ack_reason = registered ? "registration refused: " + registered->reason : "no registration answer";
    return;
  }
  const auto until = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < until) {
    auto msg = common::receive_message(s, common::SocketRole::kDealer, 200ms);
    if (!msg.ok() || !msg->has_value()) continue;
    auto& env = **msg;
    if (env.type == common::MessageType::kRoundTask) {
      auto task = common::decode<common::RoundTask>(env.header_bytes());
      if (!task.ok() || task->round != 1) continue;
      auto layout = task->layout;
      if (forgery == Forgery::kWrongShape) layout.tensors.back().shape.back() += 1;
      std::vector<float> values(static_cast<std::size_t>(layout.numel()), 0.01f);
      auto update = test::make_signed_update(key, task->job_id, task->round, layout, values);
      update.header.base_model_digest = task->model_digest;
      common::sign_update(update.header, key.secret_key);
      if (forgery == Forgery::kWrongSignature) {
        common::sign_update(update.header, common::key_pair_from_label("someone-else").secret_key);
      }
      (void)common::send_typed(s, common::SocketRole::kDealer, {}, common::MessageType::kUpdate, update.header,
                               update.payload());
    } else if (env.type == common::MessageType::kUpdateAck) {
      auto ack = common::decode<common::UpdateAck>(env.header_bytes());
      if (ack.ok() && !ack->accepted) {
        *ack_reason = ack->reason;
        return;
      }
    }
  }
}

TEST_F(Federation, ForgedAndWrongShapedUpdatesAreRejectedWhileTheRoundCompletes) {
  JobSpec spec;
  spec.rounds = 1;
  spec.min_workers = 5;
  spec.soft_deadline_s = 5;  // a forged update is no answer: the round closes on the quorum
  write_config(spec);
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::string forged_reason, shape_reason;
  const auto coordinator_key = coordinator_key_file();
  const auto pinned = common::load_public_key_file(coordinator_key).value();
  std::thread forger(run_malicious_client, endpoint, pinned, "forger", Forgery::kWrongSignature, &forged_reason);
  std::thread shaper(run_malicious_client, endpoint, pinned, "shaper", Forgery::kWrongShape, &shape_reason);
  // A plaintext peer (no CURVE) registers and sends an update: it gets nothing, and nothing of
  // it reaches the ledger.
  bool plaintext_answered = true;
  std::thread plaintext([&] {
    const auto key = common::key_pair_from_label("plaintext-peer");
    test::WorkerConnection connection(endpoint, key, pinned, /*curve=*/false);
    plaintext_answered = connection.register_worker(3s).has_value();
    connection.socket().set(zmq::sockopt::sndtimeo, 1000);  // no CURVE, no pipe: a send would block
    auto update = test::make_signed_update(key, "itest", 1, test::small_layout(), std::vector<float>(9, 1.0f));
    connection.send(common::MessageType::kUpdate, update.header, update.payload());
    plaintext_answered = plaintext_answered || connection.await(common::MessageType::kUpdateAck, 1s).has_value();
  });
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 3; ++k) workers.push_back(start_worker(k, 3, endpoint));
  forger.join();
  shaper.join();
  plaintext.join();
  EXPECT_FALSE(plaintext_answered);
  EXPECT_NE(forged_reason.find("signature"), std::string::npos) << forged_reason;
  EXPECT_NE(shape_reason.find("wrong shape"), std::string::npos) << shape_reason;
  ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  const auto rows = read_metrics(run_);
  ASSERT_GE(rows.size(), 1u);
  EXPECT_EQ(rows[0]["sampled"], 5);
  EXPECT_EQ(rows[0]["accepted"], 3);
  EXPECT_EQ(rows[0]["rejected"], 1);
  EXPECT_EQ(rows[0]["bad_signature"], 1);
  EXPECT_GT(rows[0]["test_accuracy"].get<double>(), 0.3);
  // Only the signed, wrong-shaped update is on the ledger, against the key that signed it; a
  // signature that does not verify proves nothing about any key and is only counted.
  std::map<std::string, int> rejections;
  for (const auto& a : ledger_json(dir_, {"accounts"})) rejections[a["account"]] = a["rejections"];
  EXPECT_EQ(rejections[common::to_hex(common::key_pair_from_label("forger").public_key)], 0);
  EXPECT_EQ(rejections[common::to_hex(common::key_pair_from_label("shaper").public_key)], 1);
  EXPECT_EQ(rejections.count(common::to_hex(common::key_pair_from_label("plaintext-peer").public_key)), 0u);
}

// The researcher's flow in research mode: a plaintext job (logged as such), a job card from
// `fl-coordinator job-card`, and workers told --plaintext that pin the card's key.
TEST_F(Federation, APlaintextJobRunsWithJobCardWorkersAndSaysResearchMode) {
  JobSpec spec;
  spec.rounds = 1;
  spec.min_workers = 2;
  spec.plaintext = true;
  write_config(spec);
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  ChildProcess card({test::binary("fl-coordinator"), "job-card", "--config", (dir_ / "job.toml").string(),
                     "--endpoint", endpoint, "--out", (dir_ / "job.card").string()},
                    dir_ / "card.out");
  ASSERT_EQ(card.wait(60s), 0) << test::read_file(dir_ / "card.out");
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) {
    workers.push_back(start_worker(k, 2, endpoint, 600, {"--job-card", (dir_ / "job.card").string(), "--plaintext"}));
  }
  ASSERT_EQ(coordinator.wait(120s), 0) << test::read_file(dir_ / "coordinator.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);
  EXPECT_EQ(read_metrics(run_).at(0)["accepted"], 2);
  EXPECT_NE(test::read_file(dir_ / "coordinator.out").find("RESEARCH MODE: network.plaintext = true"), std::string::npos);
  EXPECT_NE(test::read_file(dir_ / "worker0.out").find("RESEARCH MODE: --plaintext"), std::string::npos);
  EXPECT_NE(test::read_file(dir_ / "card.out").find(common::to_hex(coordinator_key().public_key)), std::string::npos);
}

TEST_F(Federation, RestartedCoordinatorResumesAtTheNextRound) {
  JobSpec spec;
  spec.rounds = 4;
  spec.epochs = 3;  // with whole shares, rounds last long enough to kill the coordinator inside one
  write_config(spec);
  auto first = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 3; ++k) workers.push_back(start_worker(k, 3, endpoint, 0));
  ASSERT_TRUE(test::wait_until([&] { return read_metrics(run_).size() >= 2; }, 180s));
  first.kill(SIGKILL);
  first.wait(10s);
  const auto done = read_metrics(run_).size();
  ASSERT_LT(done, 4u) << "the job finished before the coordinator was killed";
  auto second = start_coordinator(endpoint);  // same port: the workers reconnect by themselves
  ASSERT_EQ(second.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
  for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 4u);
  for (std::size_t i = 0; i < rows.size(); ++i) EXPECT_EQ(rows[i]["round"], i + 1);
  EXPECT_NE(test::read_file(dir_ / "coordinator.out").find("resuming job 'itest' at round " + std::to_string(done + 1)),
            std::string::npos);
}

}  // namespace
}  // namespace fl
