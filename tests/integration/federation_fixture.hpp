// The fixture of the multi-process tests: a job config in a temp folder, the real
// fl-coordinator and fl-worker binaries on 127.0.0.1, and readers for what they leave behind.
#pragma once

#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "fl/common/crypto.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {

using namespace std::chrono_literals;
using test::ChildProcess;

inline std::vector<nlohmann::json> read_metrics(const std::filesystem::path& run) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(run / "metrics.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) rows.push_back(nlohmann::json::parse(line));
  }
  return rows;
}

inline std::string read_endpoint(const std::filesystem::path& run) {
  std::ifstream in(run / "endpoint");
  std::string e;
  in >> e;
  return e;
}

// Runs `fl-ledger ARGS... --db run/ledger.db --json` and parses what it prints.
inline nlohmann::json ledger_json(const std::filesystem::path& dir, std::vector<std::string> args, int* exit_code = nullptr) {
  std::vector<std::string> argv = {test::binary("fl-ledger")};
  argv.insert(argv.end(), args.begin(), args.end());
  argv.insert(argv.end(), {"--db", (dir / "run" / "ledger.db").string(), "--json"});
  const auto out = dir / "fl-ledger.out";
  std::filesystem::remove(out);
  ChildProcess p(argv, out);
  const auto code = p.wait(60s);
  if (exit_code) *exit_code = code.value_or(-1);
  return nlohmann::json::parse(test::read_file(out), nullptr, false);
}

struct JobSpec {
  int rounds = 3;
  int min_workers = 3;
  double quorum = 0.5;
  double soft_deadline_s = 60;
  double deadline_s = 120;
  double heartbeat_timeout_s = 30;
  int epochs = 1;
  bool plaintext = false;  // RESEARCH MODE: network.plaintext = true
};

class Federation : public ::testing::Test {
 protected:
  void write_config(const JobSpec& spec) {
    std::ofstream(dir_ / "job.toml") << "[job]\nid = \"itest\"\nmodel = \"mlp\"\nrounds = " << spec.rounds
                                     << "\nseed = 7\n[data]\neval_limit = 2000\n"
                                     << "[training]\nepochs = " << spec.epochs << "\nbatch_size = 32\nlearning_rate = 0.05\n"
                                     << "[round]\nmin_workers = " << spec.min_workers
                                     << "\nquorum_fraction = " << spec.quorum
                                     << "\nsoft_deadline_s = " << spec.soft_deadline_s
                                     << "\ndeadline_s = " << spec.deadline_s
                                     << "\nregistration_wait_s = 60\nheartbeat_timeout_s = "
                                     << spec.heartbeat_timeout_s << "\n"
                                     << "[enrolment]\nopen = true\n"
                                     << "[network]\nbind = \"tcp://127.0.0.1:0\"\nplaintext = "
                                     << (spec.plaintext ? "true" : "false") << "\n"
                                     << "[output]\ndir = \"" << run_.string() << "\"\nlive_table = false\n"
                                     << "coordinator_key = \"" << coordinator_key_file().string() << "\"\n";
  }

  // The coordinator's key, made before it starts so workers can pin it (--coordinator-key).
  std::filesystem::path coordinator_key_file() {
    const auto path = dir_ / "coordinator.key";
    if (!std::filesystem::exists(path)) {
      EXPECT_TRUE(common::save_key_file(path, common::key_pair_from_label("itest-coordinator")).ok());
    }
    return path;
  }
  common::KeyPair coordinator_key() const { return common::key_pair_from_label("itest-coordinator"); }

  ChildProcess start_coordinator(const std::string& bind = "") {
    std::vector<std::string> argv = {test::binary("fl-coordinator"), "run", "--config", (dir_ / "job.toml").string()};
    if (!bind.empty()) {
      argv.push_back("--bind");
      argv.push_back(bind);
    }
    return ChildProcess(argv, dir_ / "coordinator.out");
  }

  std::string wait_for_endpoint() {
    EXPECT_TRUE(test::wait_until([&] { return !read_endpoint(run_).empty(); }, 60s));
    return read_endpoint(run_);
  }

  // max_samples 600 trains in tens of milliseconds; 0 (the whole share) takes about a second,
  // long enough for a test to act while the round is in flight.
  // `pin`: how the worker pins the coordinator (default: --coordinator-key with its key file).
  ChildProcess start_worker(int k, int n, const std::string& endpoint, int max_samples = 600,
                            std::vector<std::string> pin = {}, std::vector<std::string> extra_args = {}) {
    if (pin.empty()) pin = {"--coordinator", endpoint, "--coordinator-key", coordinator_key_file().string()};
    const auto key = dir_ / ("w" + std::to_string(k) + ".key");
    if (!std::filesystem::exists(key)) {
      EXPECT_TRUE(common::save_key_file(key, common::key_pair_from_label("itest-worker-" + std::to_string(k))).ok());
    }
    std::vector<std::string> argv = {test::binary("fl-worker"), "run", "--key", key.string(), "--partition",
                                     std::to_string(k) + "/" + std::to_string(n), "--max-samples",
                                     std::to_string(max_samples), "--heartbeat", "0.5", "--receipts",
                                     (dir_ / ("w" + std::to_string(k) + ".receipts")).string()};
    argv.insert(argv.end(), pin.begin(), pin.end());
    argv.insert(argv.end(), extra_args.begin(), extra_args.end());
    return ChildProcess(argv, dir_ / ("worker" + std::to_string(k) + ".out"));
  }

  // Runs the job in job.toml with `n` workers (shares k/n) to its end: the coordinator exits 0
  // and so does every worker.
  void run_to_end(int n) {
    auto coordinator = start_coordinator();
    const auto endpoint = wait_for_endpoint();
    std::vector<test::ChildProcess> workers;
    for (int k = 0; k < n; ++k) workers.push_back(start_worker(k, n, endpoint));
    ASSERT_EQ(coordinator.wait(300s), 0) << test::read_file(dir_ / "coordinator.out");
    for (auto& w : workers) EXPECT_EQ(w.wait(30s), 0);
  }

  test::TempDir tmp_{"fl-itest"};
  std::filesystem::path dir_ = tmp_.path();
  std::filesystem::path run_ = tmp_.path() / "run";
};

}  // namespace fl
