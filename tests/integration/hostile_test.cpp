// The real fl-coordinator and fl-worker under hostile traffic on 127.0.0.1: a flood of garbage
// and of updates from connections that never registered leaves the ledger as honest rounds make
// it (nothing on it that no key signed); the log survives kill -9; and idle connections at the
// descriptor limit do not lock honest workers out (the coordinator raises its limit at start,
// keeps head-room, and drops connections that never finish the handshake).
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <atomic>
#include <zmq.hpp>

#include "federation_fixture.hpp"
#include "fl/common/zmq_channel.hpp"

namespace fl {
namespace {

// Until `stop`: connections that send frames that are no message, headers that do not decode,
// and well-formed updates signed by keys that never registered (one naming an honest worker).
// Each connection completes CURVE with its own key (the job's enrolment is open), so its junk
// reaches the round engine rather than dying in the handshake.
void flood(const std::string& endpoint, const common::PublicKey& coordinator, const std::atomic<bool>& stop,
           std::atomic<int>& sent) {
  zmq::context_t ctx;
  std::vector<zmq::socket_t> sockets;
  for (int i = 0; i < 20; ++i) {
    sockets.emplace_back(ctx, zmq::socket_type::dealer);
    sockets.back().set(zmq::sockopt::linger, 0);
    sockets.back().set(zmq::sockopt::sndhwm, 50);
    sockets.back().set(zmq::sockopt::sndtimeo, 0);  // a full queue drops, never blocks the flood
    const auto key = common::key_pair_from_label("flooder-" + std::to_string(i));
    if (!common::set_curve_client(sockets.back(), key, coordinator).ok()) return;
    sockets.back().connect(endpoint);
  }
  const auto honest = common::key_pair_from_label("itest-worker-1");
  const auto stranger = common::key_pair_from_label("stranger");
  common::TensorLayout layout;
  layout.tensors.push_back({"w", {4}});
  while (!stop) {
    for (auto& s : sockets) {
      const auto flags = zmq::send_flags::dontwait;
      (void)s.send(zmq::str_buffer("just one frame"), flags);
      (void)common::send_message(s, common::SocketRole::kDealer, {}, common::MessageType::kUpdate, "garbage header");
      (void)common::send_message(s, common::SocketRole::kDealer, {}, common::MessageType::kRegister, "garbage");
      for (const auto* key : {&honest, &stranger}) {
        auto u = test::make_signed_update(*key, "itest", 1, layout, std::vector<float>(4, 1.0f));
        (void)common::send_typed(s, common::SocketRole::kDealer, {}, common::MessageType::kUpdate, u.header, u.payload());
      }
      sent += 5;
    }
    std::this_thread::sleep_for(20ms);
  }
}

TEST_F(Federation, AFloodOfGarbageLeavesTheLedgerAsHonestRoundsMakeIt) {
  JobSpec spec;
  spec.rounds = 2;
  write_config(spec);
  auto coordinator = start_coordinator();
  const auto endpoint = wait_for_endpoint();
  std::atomic<bool> stop{false};
  std::atomic<int> sent{0};
  std::thread attacker(flood, endpoint, coordinator_key().public_key, std::cref(stop), std::ref(sent));
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 3; ++k) workers.push_back(start_worker(k, 3, endpoint));
  const auto code = coordinator.wait(300s);
  stop = true;
  attacker.join();
  ASSERT_EQ(code, 0) << test::read_file(dir_ / "coordinator.out");
  EXPECT_GT(sent, 100);
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 2u);
  std::int64_t junk = 0;
  for (const auto& row : rows) {
    EXPECT_EQ(row["accepted"], 3);
    EXPECT_EQ(row["rejected"], 0);
    junk += row["undecodable"].get<std::int64_t>() + row["unregistered"].get<std::int64_t>() +
            row["rate_limited"].get<std::int64_t>() + row["registrations_refused"].get<std::int64_t>();
  }
  EXPECT_GT(junk, 0);
  // Only the three honest workers (and the coordinator) hold accounts; no rejection anywhere.
  std::set<std::string> expected;
  for (int k = 0; k < 3; ++k) {
    expected.insert(common::to_hex(common::key_pair_from_label("itest-worker-" + std::to_string(k)).public_key));
  }
  for (const auto& a : ledger_json(dir_, {"accounts"})) {
    EXPECT_EQ(a["rejections"], 0) << a.dump();
    if (a["rounds_contributed"].get<int>() > 0) {
      EXPECT_TRUE(expected.count(a["account"])) << a.dump();
    }
  }
  int verify_code = -1;
  ledger_json(dir_, {"verify"}, &verify_code);
  EXPECT_EQ(verify_code, 0);
  // The log was throttled: far fewer lines than messages.
  const auto log = test::read_file(run_ / "coordinator.log");
  EXPECT_LT(static_cast<int>(std::count(log.begin(), log.end(), '\n')), sent.load());
}

TEST_F(Federation, TheLogSurvivesKillNine) {
  write_config(JobSpec{});
  auto coordinator = start_coordinator();
  wait_for_endpoint();
  std::this_thread::sleep_for(1500ms);  // the log is flushed every second
  coordinator.kill(SIGKILL);
  coordinator.wait(10s);
  const auto log = test::read_file(run_ / "coordinator.log");
  EXPECT_NE(log.find("listening on"), std::string::npos) << "coordinator.log: '" << log << "'";
}

// 2,000 TCP connections that never speak, opened against a coordinator started under the common
// 1,024 soft descriptor limit: without the raised limit, head-room and the handshake timeout they
// locked every honest worker out until registration_wait_s.
TEST_F(Federation, TwoThousandIdleConnectionsUnderA1024DescriptorLimitDoNotStopHonestWorkers) {
  rlimit saved{};
  getrlimit(RLIMIT_NOFILE, &saved);
  if (saved.rlim_max < 4096) GTEST_SKIP() << "needs a hard descriptor limit of at least 4096 (ulimit -Hn)";
  write_config(JobSpec{1, 2, 0.5, 30, 60, 30, 1});
  rlimit low{1024, saved.rlim_max};
  setrlimit(RLIMIT_NOFILE, &low);  // the coordinator inherits 1,024
  auto coordinator = start_coordinator();
  rlimit high{saved.rlim_max, saved.rlim_max};
  setrlimit(RLIMIT_NOFILE, &high);
  const auto endpoint = wait_for_endpoint();
  const auto port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  // The idle connections come from 40 loopback addresses, 50 each: under the per-address limit (64),
  // so only the descriptor head-room and the handshake timeout stand between them and the honest
  // workers, which connect from 127.0.0.1 (from one address, they would have met that limit instead).
  std::vector<int> idle;
  for (int i = 0; i < 2000; ++i) {
    const int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) continue;
    sockaddr_in source{};
    source.sin_family = AF_INET;
    source.sin_addr.s_addr = htonl((127u << 24) | (1u << 8) | static_cast<std::uint32_t>(1 + i % 40));
    if (bind(fd, reinterpret_cast<sockaddr*>(&source), sizeof source) != 0) {
      close(fd);
      continue;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<std::uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0) idle.push_back(fd);
    else close(fd);
  }
  EXPECT_GT(idle.size(), 1900u) << "the idle connections could not be opened";
  std::vector<ChildProcess> workers;
  for (int k = 0; k < 2; ++k) workers.push_back(start_worker(k, 2, endpoint));
  const auto code = coordinator.wait(120s);
  for (int fd : idle) close(fd);
  setrlimit(RLIMIT_NOFILE, &saved);
  ASSERT_EQ(code, 0) << test::read_file(dir_ / "coordinator.out") << test::read_file(dir_ / "worker0.out");
  const auto rows = read_metrics(run_);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0]["accepted"], 2);
  EXPECT_EQ(rows[0]["close_reason"], "all answered");
}

}  // namespace
}  // namespace fl
