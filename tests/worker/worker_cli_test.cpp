// fl-worker as a user meets it: a mistyped endpoint, no coordinator, a refused registration, a
// replaced key, a stop signal. Each ends with a clear line and an exit code, never an abort.
#include <gtest/gtest.h>
#include <signal.h>

#include "fake_coordinator.hpp"
#include "fl/common/crypto.hpp"
#include "fl/common/job_card.hpp"
#include "fl/common/job_terms.hpp"
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

  ChildProcess start(const std::string& coordinator, const std::string& connect_timeout,
                     std::vector<std::string> pin = {}) {
    if (pin.empty()) pin = {"--coordinator-key", test::FakeCoordinator().key_hex()};
    std::vector<std::string> argv = {test::binary("fl-worker"), "run", "--coordinator", coordinator, "--key",
                                     (dir_ / "w.key").string(), "--data", (dir_ / "data").string(), "--device",
                                     "cpu", "--threads", "1", "--connect-timeout", connect_timeout};
    argv.insert(argv.end(), pin.begin(), pin.end());
    return ChildProcess(argv, log_);
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
  ASSERT_TRUE(coordinator.take_registration("job-1", false, "the job is full", 30s)) << log();
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("refused registration: the job is full")) << log();
}

TEST_F(WorkerCli, ExitsZeroWhenTheCoordinatorEndsTheJobBeforeItJoins) {
  test::FakeCoordinator coordinator;
  auto worker = start(coordinator.endpoint(), "30");
  auto request = coordinator.await(common::MessageType::kRegister, 30s);
  ASSERT_TRUE(request) << log();
  coordinator.shutdown(request->identity, "job-1", "not enough workers registered in time");
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
  ASSERT_TRUE(coordinator.take_registration("job-1", true, "", 30s)) << log();
  ASSERT_TRUE(coordinator.await(common::MessageType::kHeartbeat, 30s)) << log();
  worker.kill(SIGINT);
  EXPECT_EQ(worker.wait(10s), 0) << log();
  EXPECT_TRUE(log_has("worker stopped by signal (SIGINT)")) << log();
}

TEST_F(WorkerCli, RefusesACoordinatorThatCannotProveThePinnedKey) {
  test::FakeCoordinator impostor(common::key_pair_from_label("impostor"));
  auto worker = start(impostor.endpoint(), "60");  // pinned to the real coordinator's key
  EXPECT_EQ(worker.wait(30s), 3) << log();
  EXPECT_TRUE(log_has("did not prove it holds the pinned key " +
                      common::short_id(test::FakeCoordinator().key())))
      << log();
  EXPECT_FALSE(impostor.await(common::MessageType::kRegister, 100ms));
}

TEST_F(WorkerCli, RefusesToStartWithoutACoordinatorKeyToPin) {
  auto worker = start(test::unused_endpoint(), "5", {"--log-level", "info"});
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("no coordinator key to pin: pass --job-card FILE")) << log();
}

TEST_F(WorkerCli, JoinsTheJobAndCoordinatorNamedByASignedJobCard) {
  test::FakeCoordinator coordinator;
  common::JobCard card{coordinator.endpoint(), coordinator.key(), "job-1", {}, {}, {}, {}};
  common::sign_job_card(card, common::key_pair_from_label("researcher"));
  ASSERT_TRUE(common::save_job_card(dir_ / "job.card", card).ok());
  auto worker = start(coordinator.endpoint(), "30", {"--job-card", (dir_ / "job.card").string()});
  auto identity = coordinator.take_registration("job-1", true, "", 30s);
  ASSERT_TRUE(identity) << log();
  coordinator.shutdown(*identity, "job-1", "done");
  EXPECT_EQ(worker.wait(30s), 0) << log();
  EXPECT_TRUE(log_has("registered with " + coordinator.endpoint())) << log();
}

common::JobTerms offered_terms(const common::PublicKey& coordinator) {
  return test::job_terms("job-1", common::key_pair_from_label("researcher").public_key, coordinator);
}

TEST_F(WorkerCli, ConsentsToTheSignedTermsItsJobCardNames) {
  test::FakeCoordinator coordinator;
  const auto terms = offered_terms(coordinator.key());
  coordinator.offer_terms(terms, common::key_pair_from_label("researcher"));
  common::JobCard card{coordinator.endpoint(), coordinator.key(), "job-1", {}, {}, common::terms_digest(terms), {}};
  common::sign_job_card(card, common::key_pair_from_label("researcher"));
  ASSERT_TRUE(common::save_job_card(dir_ / "job.card", card).ok());
  auto worker = start(coordinator.endpoint(), "30", {"--job-card", (dir_ / "job.card").string()});
  auto identity = coordinator.take_registration("job-1", true, "", 30s);
  ASSERT_TRUE(identity) << log();
  ASSERT_TRUE(coordinator.last_registration());
  EXPECT_EQ(coordinator.last_registration()->terms_digest, common::terms_digest(terms));
  EXPECT_TRUE(common::verify_consent(*coordinator.last_registration()));
  coordinator.shutdown(*identity, "job-1", "done");
  EXPECT_EQ(worker.wait(30s), 0) << log();
  EXPECT_TRUE(log_has("consenting to the terms " + common::to_hex(common::terms_digest(terms)).substr(0, 16))) << log();
}

TEST_F(WorkerCli, RefusesTermsOtherThanTheJobCardsOrNotSignedByTheirResearcher) {
  test::FakeCoordinator coordinator;
  auto terms = offered_terms(coordinator.key());
  common::JobCard card{coordinator.endpoint(), coordinator.key(), "job-1", {}, {}, common::terms_digest(terms), {}};
  common::sign_job_card(card, common::key_pair_from_label("researcher"));
  ASSERT_TRUE(common::save_job_card(dir_ / "job.card", card).ok());
  terms.rounds = 500;  // the coordinator offers more rounds than the card's terms
  coordinator.offer_terms(terms, common::key_pair_from_label("researcher"));
  auto worker = start(coordinator.endpoint(), "30", {"--job-card", (dir_ / "job.card").string()});
  EXPECT_FALSE(coordinator.take_registration("job-1", true, "", 5s));
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("the job card names " + common::to_hex(card.terms_digest).substr(0, 16))) << log();

  test::FakeCoordinator forger;
  forger.offer_terms(offered_terms(forger.key()), common::key_pair_from_label("not the researcher"));
  auto second = start(forger.endpoint(), "30", {"--coordinator-key", forger.key_hex()});
  EXPECT_FALSE(forger.take_registration("job-1", true, "", 5s));
  EXPECT_EQ(second.wait(30s), 3) << log();  // a bad signature, like an impostor coordinator
  EXPECT_TRUE(log_has("are not signed by the researcher they name")) << log();
}

TEST_F(WorkerCli, RefusesAJobCardChangedAfterSigning) {
  common::JobCard card{"tcp://127.0.0.1:5555", test::FakeCoordinator().key(), "job-1", {}, {}, {}, {}};
  common::sign_job_card(card, common::key_pair_from_label("researcher"));
  card.endpoint = "tcp://10.6.6.6:5555";
  ASSERT_TRUE(common::save_job_card(dir_ / "job.card", card).ok());
  auto worker = start(test::unused_endpoint(), "5", {"--job-card", (dir_ / "job.card").string()});
  EXPECT_EQ(worker.wait(30s), 1) << log();
  EXPECT_TRUE(log_has("job card signature does not verify")) << log();
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
