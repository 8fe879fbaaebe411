// Three "hosts": the coordinator and two workers, each in its own network namespace, joined by
// veth links on private 10.213.x.y addresses that exist only inside these namespaces (loopback
// stays down everywhere, and nothing is added to the host's namespace). The real fl-coordinator
// binds its veth address; one worker's link goes down for a few seconds, it is dropped, and when
// the link is back it rejoins and its updates are accepted again. Needs CAP_NET_ADMIN (root):
// skips with a message without it.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "commands.hpp"
#include "fl/common/crypto.hpp"

namespace fl {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;

// coordinator --vA-- worker A (10.213.1.0/24)      coordinator --vB-- worker B (10.213.2.0/24)
constexpr const char* kCoordinatorAddress = "10.213.1.1";
constexpr const char* kEndpoint = "tcp://10.213.1.1:5555";

// The namespaces and links of one test, named after this process so parallel runs never meet;
// deleted when the object goes away, whatever happened (deleting a namespace deletes its links).
class NetworkLab {
 public:
  NetworkLab(std::string ip, std::filesystem::path log_dir)
      : ip_(std::move(ip)),
        log_dir_(std::move(log_dir)),
        prefix_("fl" + std::to_string(::getpid())) {}
  ~NetworkLab() {
    for (const auto& ns : created_)
      test::run_command({ip_, "netns", "del", ns}, log_dir_ / "ip-cleanup.out");
  }
  NetworkLab(const NetworkLab&) = delete;
  NetworkLab& operator=(const NetworkLab&) = delete;

  std::string ns(const std::string& host) const { return prefix_ + host; }

  // Namespaces an earlier run left when it was killed outright (no destructor ran): "fl<pid>c",
  // "fl<pid>a", "fl<pid>b" whose process is gone.
  void remove_stale() {
    const auto list = test::run_command({ip_, "netns", "list"}, log_dir_ / "ip-list.out");
    const std::regex ours("^fl([0-9]+)[cab]( .*)?$");
    std::istringstream lines(list.output);
    for (std::string line; std::getline(lines, line);) {
      std::smatch m;
      if (!std::regex_match(line, m, ours)) continue;
      const auto pid = static_cast<pid_t>(std::stol(m[1].str()));
      if (::kill(pid, 0) == 0 || errno != ESRCH) continue;  // its test is still running
      test::run_command({ip_, "netns", "del", line.substr(0, line.find(' '))},
                        log_dir_ / "ip-cleanup.out");
    }
  }

  // The first failure's command and output, or "" when the lab is up.
  std::string build() {
    remove_stale();
    for (const char* host : {"c", "a", "b"}) {
      if (auto e = ip({"netns", "add", ns(host)}); !e.empty()) return e;
      created_.push_back(ns(host));
    }
    const std::vector<std::vector<std::string>> steps = {
        {"link", "add", "vA", "netns", ns("c"), "type", "veth", "peer", "name", "eth0", "netns",
         ns("a")},
        {"link", "add", "vB", "netns", ns("c"), "type", "veth", "peer", "name", "eth0", "netns",
         ns("b")},
        {"-n", ns("c"), "addr", "add", "10.213.1.1/24", "dev", "vA"},
        {"-n", ns("c"), "addr", "add", "10.213.2.1/24", "dev", "vB"},
        {"-n", ns("a"), "addr", "add", "10.213.1.2/24", "dev", "eth0"},
        {"-n", ns("b"), "addr", "add", "10.213.2.2/24", "dev", "eth0"},
        {"-n", ns("c"), "link", "set", "vA", "up"},
        {"-n", ns("c"), "link", "set", "vB", "up"},
        {"-n", ns("a"), "link", "set", "eth0", "up"},
        {"-n", ns("b"), "link", "set", "eth0", "up"},
        // Worker B reaches the coordinator's bound address (on vA) through its own link.
        {"-n", ns("b"), "route", "add", "10.213.1.0/24", "via", "10.213.2.1"},
    };
    for (const auto& step : steps) {
      if (auto e = ip(step); !e.empty()) return e;
    }
    return "";
  }

  std::string set_link(const std::string& host, const std::string& dev, bool up) {
    return ip({"-n", ns(host), "link", "set", dev, up ? "up" : "down"});
  }

  std::vector<std::string> exec_in(const std::string& host, std::vector<std::string> argv) const {
    argv.insert(argv.begin(), {ip_, "netns", "exec", ns(host)});
    return argv;
  }

 private:
  std::string ip(std::vector<std::string> args) {
    args.insert(args.begin(), ip_);
    const auto r = test::run_command(args, log_dir_ / "ip.out");
    if (r.exit_code == 0) return "";
    std::string cmd;
    for (const auto& a : args) cmd += (cmd.empty() ? "" : " ") + a;
    return cmd + " -> exit " + std::to_string(r.exit_code) + ": " + r.output;
  }

  std::string ip_;
  std::filesystem::path log_dir_;
  std::string prefix_;
  std::vector<std::string> created_;
};

std::vector<nlohmann::json> read_jsonl(const std::filesystem::path& path) {
  std::vector<nlohmann::json> rows;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_discarded()) rows.push_back(std::move(j));
  }
  return rows;
}

std::size_t count(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

class MultiHost : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto ip = test::find_program("ip");
    if (!ip)
      GTEST_SKIP() << "no `ip` command (Debian package iproute2): cannot make network namespaces";
    lab_.emplace(*ip, dir_);
    if (auto error = lab_->build(); !error.empty()) {
      GTEST_SKIP()
          << "cannot make network namespaces and veth links here (needs root or CAP_NET_ADMIN): "
          << error;
    }
  }

  void write_job() {
    // Rounds close 1 s after they open once the quorum (1 of 2) is in; a worker silent for 2 s is
    // dropped, and the next round waits for two workers again.
    std::ofstream(dir_ / "job.toml")
        << "[job]\nid = \"netns\"\nmodel = \"mlp\"\nrounds = 16\nseed = 7\n"
        << "[data]\neval_limit = 500\n"
        << "[training]\nepochs = 1\nbatch_size = 32\nlearning_rate = 0.05\n"
        << "[round]\nmin_workers = 2\nquorum_fraction = 0.5\nsoft_deadline_s = 1\n"
        << "deadline_s = 5\nregistration_wait_s = 60\nheartbeat_timeout_s = 2\n"
        << "[enrolment]\nopen = true\n"
        << "[network]\nbind = \"tcp://" << kCoordinatorAddress << ":5555\"\n"
        << "[output]\ndir = \"" << run_.string() << "\"\nlive_table = false\n";
  }

  ChildProcess start_worker(const std::string& host, int k) {
    // Pin the coordinator's key (CURVE): it exists once the coordinator has started.
    EXPECT_TRUE(test::wait_until([&] { return std::filesystem::exists(run_ / "keys" / "coordinator.key"); }, 60s));
    const auto key = dir_ / ("w" + host + ".key");
    EXPECT_TRUE(
        common::save_key_file(key, common::key_pair_from_label("netns-worker-" + host)).ok());
    return ChildProcess(
        lab_->exec_in(host, {test::binary("fl-worker"), "run", "--coordinator", kEndpoint,
                             "--coordinator-key", (run_ / "keys" / "coordinator.key").string(), "--key",
                             key.string(), "--partition", std::to_string(k) + "/2", "--max-samples",
                             "300", "--threads", "1", "--heartbeat", "0.5", "--receipts",
                             (dir_ / ("w" + host + ".receipts")).string()}),
        dir_ / ("worker-" + host + ".out"));
  }

  std::vector<nlohmann::json> metrics() const { return read_jsonl(run_ / "metrics.jsonl"); }

  test::TempDir tmp_{"fl-netns"};
  std::filesystem::path dir_ = tmp_.path();
  std::filesystem::path run_ = tmp_.path() / "run";
  std::optional<NetworkLab> lab_;  // declared before the processes: they are killed first
};

TEST_F(MultiHost, WorkersOnOtherHostsTrainAndOneRejoinsAfterItsLinkWasDown) {
  write_job();
  auto coordinator = ChildProcess(lab_->exec_in("c", {test::binary("fl-coordinator"), "run",
                                                      "--config", (dir_ / "job.toml").string()}),
                                  dir_ / "coordinator.out");
  auto worker_a = start_worker("a", 0);
  auto worker_b = start_worker("b", 1);
  const auto log = [&] {
    return "coordinator:\n" + test::read_file(dir_ / "coordinator.out") + "\nworker a:\n" +
           test::read_file(dir_ / "worker-a.out") + "\nworker b:\n" +
           test::read_file(dir_ / "worker-b.out");
  };

  // Both workers' updates are in two rounds: the federation works across the links.
  ASSERT_TRUE(test::wait_until([&] { return metrics().size() >= 2; }, 60s)) << log();
  EXPECT_EQ(test::read_file(run_ / "endpoint"), std::string(kEndpoint) + "\n");
  const auto before = metrics();
  EXPECT_EQ(before[0]["accepted"], 2) << log();

  // Worker A's link goes down long enough to be dropped (2 s without a heartbeat), then up.
  ASSERT_EQ(lab_->set_link("a", "eth0", false), "");
  std::this_thread::sleep_for(4s);
  const std::uint64_t last_round_while_down = metrics().back()["round"].get<std::uint64_t>();
  ASSERT_EQ(lab_->set_link("a", "eth0", true), "");

  ASSERT_EQ(coordinator.wait(90s), 0) << log();
  EXPECT_EQ(worker_a.wait(30s), 0) << log();
  EXPECT_EQ(worker_b.wait(30s), 0) << log();

  const auto rows = metrics();
  ASSERT_EQ(rows.size(), 16u) << log();
  // While A was cut off, rounds closed with B alone; once it was back, with both again.
  bool b_alone = false;
  std::string accepted;
  for (const auto& r : rows) {
    b_alone |= r["accepted"] == 1;
    accepted += " " + r["accepted"].dump();
  }
  std::cout << "updates accepted per round:" << accepted << " (link down when round "
            << before.size() << " was recorded"
            << ", up again after round " << last_round_while_down << ")\n";
  EXPECT_TRUE(b_alone) << log();
  EXPECT_EQ(rows.back()["accepted"], 2) << log();
  const std::string coordinator_log = test::read_file(dir_ / "coordinator.out");
  EXPECT_NE(coordinator_log.find("dropped 1 worker(s) silent"), std::string::npos) << log();
  EXPECT_GE(count(test::read_file(dir_ / "worker-a.out"), "registered with"), 2u) << log();

  // A's updates after the outage were accepted and recorded: it holds their ledger receipts.
  std::set<std::uint64_t> a_rounds;
  for (const auto& r : read_jsonl(dir_ / "wa.receipts")) {
    a_rounds.insert(r["round"].get<std::uint64_t>());
    EXPECT_EQ(r["proof_verified"], true);
  }
  ASSERT_FALSE(a_rounds.empty()) << log();
  EXPECT_GT(*a_rounds.rbegin(), last_round_while_down) << log();
  EXPECT_EQ(a_rounds.count(16), 1u) << log();

  // The run ends with its plots.
  EXPECT_TRUE(std::filesystem::exists(run_ / "accuracy.svg"));
  EXPECT_TRUE(std::filesystem::exists(run_ / "rewards.svg"));
}

}  // namespace
}  // namespace fl
