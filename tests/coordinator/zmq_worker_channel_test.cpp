// The ZeroMQ worker channel on 127.0.0.1 with real sockets: CURVE with the ZAP enrolment check,
// plaintext peers and unknown keys get nothing, connections over the per-address limit are
// refused while an honest worker registers, connections that never register are dropped, the
// descriptor limit is raised. Each test takes well under two seconds.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <thread>

#include "fl/coordinator/round_engine.hpp"
#include "fl/coordinator/worker_channel.hpp"
#include "support/builders.hpp"
#include "support/worker_connection.hpp"

namespace fl::coordinator {
namespace {

using namespace std::chrono_literals;
using common::MessageType;

// A raw TCP connection from `source` (any 127.x.x.x) to the channel's port; -1 on failure.
int raw_connect(const std::string& endpoint, const char* source) {
  const int port = std::stoi(endpoint.substr(endpoint.rfind(':') + 1));
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in from{};
  from.sin_family = AF_INET;
  ::inet_pton(AF_INET, source, &from.sin_addr);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<std::uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &to.sin_addr);
  if (::bind(fd, reinterpret_cast<sockaddr*>(&from), sizeof from) != 0 ||
      ::connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

// True once the peer closed `fd` (read returns 0 or an error) within `timeout`.
bool closed_by_peer(int fd, std::chrono::milliseconds timeout) {
  const auto until = std::chrono::steady_clock::now() + timeout;
  char buf[256];
  while (std::chrono::steady_clock::now() < until) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 50) > 0) {
      const auto n = ::recv(fd, buf, sizeof buf, 0);
      if (n <= 0) return true;  // greeting bytes (n > 0) are read and ignored
    }
  }
  return false;
}

class ZmqWorkerChannelTest : public ::testing::Test {
 protected:
  void bind(bool open = true, std::vector<common::PublicKey> allowed = {}) {
    ChannelOptions o;
    o.endpoint = "tcp://127.0.0.1:0";
    o.server_key = &coordinator_;
    o.open_enrolment = open;
    o.allowed_workers = std::move(allowed);
    o.max_connections_per_address = 4;
    o.register_timeout_s = 0.5;
    auto bound = bind_zmq_channel(o);
    ASSERT_TRUE(bound.ok()) << bound.error().message;
    channel_ = std::move(bound->channel);
    endpoint_ = bound->endpoint;
    max_connections_ = bound->max_connections;
  }
  std::optional<InboundMessage> receive(std::chrono::milliseconds timeout) {
    const auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
      auto r = channel_->receive(20ms);
      if (r.message) return std::move(r.message);
    }
    return std::nullopt;
  }
  // Serves registrations through the round engine on a thread of its own.
  void serve_with_engine() {
    EngineSettings s;
    s.job_id = "job";
    s.model = "test";
    s.layout = test::small_layout();
    s.heartbeat_timeout_s = 0;
    s.require_authenticated_key = true;
    engine_ = std::make_unique<RoundEngine>(s, *channel_, registry_, coordinator_, stop_);
    server_ = std::thread([this] {
      while (!stop_) engine_->pump(20ms);
    });
  }
  void TearDown() override {
    stop_ = true;
    if (server_.joinable()) server_.join();
  }

  common::KeyPair coordinator_ = common::key_pair_from_label("coordinator");
  common::KeyPair worker_ = common::key_pair_from_label("worker");
  std::unique_ptr<WorkerChannel> channel_;
  std::string endpoint_;
  std::size_t max_connections_ = 0;
  WorkerRegistry registry_{true, {}};
  std::atomic<bool> stop_{false};
  std::unique_ptr<RoundEngine> engine_;
  std::thread server_;
};

TEST_F(ZmqWorkerChannelTest, AnEnrolledCurveClientIsHeardWithItsAuthenticatedKey) {
  bind();
  test::WorkerConnection worker(endpoint_, worker_, coordinator_.public_key);
  worker.send(MessageType::kHeartbeat, common::Heartbeat{worker_.public_key, 1});
  auto message = receive(2s);
  ASSERT_TRUE(message);
  ASSERT_TRUE(message->authenticated_key);
  EXPECT_EQ(*message->authenticated_key, common::curve_key_pair(worker_).public_key);
}

TEST_F(ZmqWorkerChannelTest, APlaintextPeerGetsNothing) {
  bind();
  serve_with_engine();
  test::WorkerConnection plaintext(endpoint_, worker_, coordinator_.public_key, /*curve=*/false);
  EXPECT_FALSE(plaintext.register_worker(1s));
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(ZmqWorkerChannelTest, AKeyNotOnTheAllowListIsRefusedDuringTheHandshake) {
  bind(false, {worker_.public_key});
  test::WorkerConnection stranger(endpoint_, common::key_pair_from_label("stranger"),
                                  coordinator_.public_key);
  stranger.send(MessageType::kHeartbeat, common::Heartbeat{});
  EXPECT_FALSE(receive(1s));
  test::WorkerConnection enrolled(endpoint_, worker_, coordinator_.public_key);
  enrolled.send(MessageType::kHeartbeat, common::Heartbeat{});
  EXPECT_TRUE(receive(2s));
}

TEST_F(ZmqWorkerChannelTest, AClientPinningAnotherCoordinatorKeyGetsNoAnswer) {
  bind();
  serve_with_engine();
  test::WorkerConnection misled(endpoint_, worker_,
                                common::key_pair_from_label("impostor").public_key);
  EXPECT_FALSE(misled.register_worker(1s));
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(ZmqWorkerChannelTest, AnHonestWorkerRegistersOverCurve) {
  bind();
  serve_with_engine();
  test::WorkerConnection worker(endpoint_, worker_, coordinator_.public_key);
  auto ack = worker.register_worker(3s);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->accepted) << ack->reason;
}

TEST_F(ZmqWorkerChannelTest, ARegistrationReplayedFromAnotherConnectionIsRefused) {
  bind();
  serve_with_engine();
  std::string recorded;
  test::WorkerConnection honest(endpoint_, worker_, coordinator_.public_key);
  ASSERT_TRUE(honest.register_worker(3s, &recorded));
  // The attacker has its own (open-enrolment) key and the recorded bytes.
  test::WorkerConnection attacker(endpoint_, common::key_pair_from_label("attacker"),
                                  coordinator_.public_key);
  attacker.send_raw(MessageType::kRegister, recorded);
  auto ack = attacker.answer(3s);
  ASSERT_TRUE(ack);
  EXPECT_FALSE(ack->accepted);
  EXPECT_NE(ack->reason.find("challenge"), std::string::npos) << ack->reason;
}

TEST_F(ZmqWorkerChannelTest,
       ConnectionsOverThePerAddressLimitAreRefusedWhileAnHonestWorkerRegisters) {
  bind();
  serve_with_engine();
  std::vector<int> flood;
  for (int i = 0; i < 12; ++i) flood.push_back(raw_connect(endpoint_, "127.0.0.2"));
  int refused = 0;
  for (int fd : flood) refused += fd < 0 || closed_by_peer(fd, 100ms);
  EXPECT_GE(refused, 8);  // the limit is 4 per address
  test::WorkerConnection worker(endpoint_, worker_, coordinator_.public_key);
  auto ack = worker.register_worker(3s);
  ASSERT_TRUE(ack);
  EXPECT_TRUE(ack->accepted) << ack->reason;
  for (int fd : flood)
    if (fd >= 0) ::close(fd);
}

TEST_F(ZmqWorkerChannelTest, AConnectionThatNeverRegistersIsDroppedAfterTheTimeout) {
  bind();
  const int silent = raw_connect(endpoint_, "127.0.0.3");
  ASSERT_GE(silent, 0);
  EXPECT_FALSE(closed_by_peer(silent, 200ms));
  EXPECT_TRUE(closed_by_peer(silent, 3s));
  ::close(silent);
}

TEST_F(ZmqWorkerChannelTest, AnAuthenticatedConnectionThatNeverRegistersIsDropped) {
  bind();
  zmq::context_t context;
  zmq::socket_t idle(context, zmq::socket_type::dealer);
  idle.set(zmq::sockopt::linger, 0);
  ASSERT_TRUE(common::set_curve_client(idle, worker_, coordinator_.public_key).ok());
  ASSERT_EQ(zmq_socket_monitor(idle.handle(), "inproc://idle-monitor",
                               ZMQ_EVENT_HANDSHAKE_SUCCEEDED | ZMQ_EVENT_DISCONNECTED),
            0);
  zmq::socket_t monitor(context, zmq::socket_type::pair);
  monitor.set(zmq::sockopt::linger, 0);
  monitor.connect("inproc://idle-monitor");
  idle.connect(endpoint_);
  std::vector<std::uint16_t> events;
  monitor.set(zmq::sockopt::rcvtimeo, 3000);
  while (events.size() < 2) {
    zmq::message_t event, address;
    if (!monitor.recv(event)) break;
    (void)monitor.recv(address);
    std::uint16_t id = 0;
    std::memcpy(&id, event.data(), 2);
    events.push_back(id);
  }
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0], ZMQ_EVENT_HANDSHAKE_SUCCEEDED);
  EXPECT_EQ(events[1], ZMQ_EVENT_DISCONNECTED);
}

TEST_F(ZmqWorkerChannelTest, ARegisteredConnectionOutlivesTheTimeout) {
  bind();
  serve_with_engine();
  test::WorkerConnection worker(endpoint_, worker_, coordinator_.public_key);
  auto ack = worker.register_worker(3s);
  ASSERT_TRUE(ack && ack->accepted);
  std::this_thread::sleep_for(1200ms);  // the timeout is 0.5 s
  // Had the connection been dropped, ZeroMQ would reconnect under a new routing id, which the
  // engine does not know: it would answer the heartbeat with an error.
  worker.send(MessageType::kHeartbeat, common::Heartbeat{worker_.public_key, 1});
  EXPECT_FALSE(worker.await(MessageType::kError, 500ms));
}

TEST_F(ZmqWorkerChannelTest, RaisesTheDescriptorLimitAndStaysWellBelowIt) {
  bind();
  rlimit limit{};
  ASSERT_EQ(::getrlimit(RLIMIT_NOFILE, &limit), 0);
  EXPECT_EQ(limit.rlim_cur, limit.rlim_max);
  EXPECT_LT(max_connections_, limit.rlim_cur * 4 / 5);
}

}  // namespace
}  // namespace fl::coordinator
