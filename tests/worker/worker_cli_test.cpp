// fl-worker as a user meets it: a mistyped endpoint, no coordinator, a refused registration, a
// replaced key, a stop signal. Each ends with a clear line and an exit code, never an abort.
#include <gtest/gtest.h>
#include <signal.h>

#include "fake_coordinator.hpp"
#include "fl/common/crypto.hpp"
#include "support/builders.hpp"
#include "support/process.hpp"

namespace fl {
namespace {

using namespace std::chrono_literals;
using test::ChildProcess;

class WorkerCli : public ::testing::Test {
 protected:
  void SetUp() override {
    key_ = common::generate_key_pair();
    ASSERT_TRUE(common::save_key_file(dir_ / "w.key", key_).ok());
    test::write_idx_dataset(dir_ / "data", 30, 16, 16, 3);
  }

  ChildProcess start(const std::string& coordinator, const std::string& connect_timeout) {
    return ChildProcess({test::binary("fl-worker"), "run", "--coordinator", coordinator, "--key",
                         (dir_ / "w.key").string(), "--data", (dir_ / "data").string(), "--device",
                         "cpu", "--threads", "1", "--connect-timeout", connect_timeout},
                        log_);
  }
  ChildProcess keygen(const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {test::binary("fl-worker"), "keygen", "--out",
                                     (dir_ / "my.key").string()};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return ChildProcess(argv, log_);
  }
  std::string log() const { return test::read_file(log_); }
  bool log_has(const std::string& text) const { return log().find(text) != std::string::npos; }

  test::TempDir dir_{"fl-worker-test"};
  std::filesystem::path log_ = dir_ / "worker.log";
  common::KeyPair key_;
};

TEST_F(WorkerCli, RefusesAnEndpointWithoutTcpSayingWhatToWrite) {
  auto worker = start("127.0.0.1:6111", "5");
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("expected tcp://HOST:PORT, e.g. tcp://127.0.0.1:5555")) << log();
  EXPECT_TRUE(log_has("'127.0.0.1:6111'")) << log();
}

TEST_F(WorkerCli, SaysItIsRetryingAndGivesUpAfterTheConnectTimeout) {
  const auto nowhere = test::unused_endpoint();
  auto worker = start(nowhere, "3");
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("connecting to " + nowhere)) << log();
  EXPECT_TRUE(log_has("no answer yet")) << log();
  EXPECT_TRUE(log_has("no answer from the coordinator at " + nowhere)) << log();
  EXPECT_TRUE(log_has("--connect-timeout")) << log();
}

TEST_F(WorkerCli, ExitsNonZeroNamingTheReasonWhenRegistrationIsRefused) {
  test::FakeCoordinator coordinator;
  auto worker = start(coordinator.endpoint(), "30");
  auto request = coordinator.await(common::MessageType::kRegister, 30s);
  ASSERT_TRUE(request) << log();
  coordinator.send(request->identity, common::MessageType::kRegisterAck,
                   common::RegisterAck{false, "the job is full", "job-1", {}});
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("refused registration: the job is full")) << log();
}

TEST_F(WorkerCli, ExitsZeroWhenTheCoordinatorEndsTheJobBeforeItJoins) {
  test::FakeCoordinator coordinator;
  auto worker = start(coordinator.endpoint(), "30");
  auto request = coordinator.await(common::MessageType::kRegister, 30s);
  ASSERT_TRUE(request) << log();
  coordinator.send(request->identity, common::MessageType::kShutdown,
                   common::Shutdown{"job-1", "not enough workers registered in time"});
  EXPECT_EQ(worker.wait(30s), 0) << log();
  EXPECT_TRUE(log_has("ended the job before this worker joined: not enough workers")) << log();
}

TEST_F(WorkerCli, StopsCleanlyOnSigterm) {
  auto worker = start(test::unused_endpoint(), "0");
  ASSERT_TRUE(test::wait_until([&] { return log_has("connecting to"); }, 30s)) << log();
  worker.kill(SIGTERM);
  EXPECT_EQ(worker.wait(10s), 0) << log();
  EXPECT_TRUE(log_has("worker stopped by signal (SIGTERM)")) << log();
}

TEST_F(WorkerCli, StopsCleanlyOnSigintWhileServingRounds) {
  test::FakeCoordinator coordinator;
  auto worker = start(coordinator.endpoint(), "30");
  auto request = coordinator.await(common::MessageType::kRegister, 30s);
  ASSERT_TRUE(request) << log();
  coordinator.send(request->identity, common::MessageType::kRegisterAck,
                   common::RegisterAck{true, "", "job-1", {}});
  ASSERT_TRUE(coordinator.await(common::MessageType::kHeartbeat, 30s)) << log();
  worker.kill(SIGINT);
  EXPECT_EQ(worker.wait(10s), 0) << log();
  EXPECT_TRUE(log_has("worker stopped by signal (SIGINT)")) << log();
}

TEST_F(WorkerCli, KeygenRefusesToReplaceAnExistingKeyWithoutForce) {
  ASSERT_EQ(keygen({}).wait(30s), 0) << log();
  const auto first = test::read_file(dir_ / "my.key");
  EXPECT_EQ(keygen({}).wait(30s), 1) << log();
  EXPECT_TRUE(log_has((dir_ / "my.key").string() + " already exists")) << log();
  EXPECT_TRUE(log_has("--force")) << log();
  EXPECT_EQ(test::read_file(dir_ / "my.key"), first);
}

TEST_F(WorkerCli, KeygenWithForceReplacesTheKey) {
  ASSERT_EQ(keygen({}).wait(30s), 0) << log();
  const auto first = test::read_file(dir_ / "my.key");
  EXPECT_EQ(keygen({"--force"}).wait(30s), 0) << log();
  EXPECT_NE(test::read_file(dir_ / "my.key"), first);
}

}  // namespace
}  // namespace fl
