// Registration through the round engine: first contact gets a challenge for that connection, and
// only a registration signed over this job, this coordinator, that challenge and (under CURVE)
// the connection's own key enrols. Replays from another connection are refused. In-process.
#include <gtest/gtest.h>

#include <atomic>

#include "fake_worker_channel.hpp"
#include "fl/coordinator/round_engine.hpp"

namespace fl::coordinator {
namespace {

using common::MessageType;
using test::FakeWorkerChannel;

class RegistrationBinding : public ::testing::Test {
 protected:
  RegistrationBinding() {
    EngineSettings s;
    s.job_id = "job";
    s.model = "test";
    s.layout = test::small_layout();
    s.heartbeat_timeout_s = 0;
    engine_ = std::make_unique<RoundEngine>(s, channel_, registry_, coordinator_, stop_);
  }

  // The engine's last answer to `peer`.
  common::RegisterAck last_ack(const PeerId& peer) const {
    for (auto it = channel_.sent.rbegin(); it != channel_.sent.rend(); ++it) {
      if (it->peer == peer && it->type == MessageType::kRegisterAck)
        return it->header_as<common::RegisterAck>().value();
    }
    ADD_FAILURE() << "no registration answer to " << peer;
    return {};
  }
  void pump_all() {
    for (int i = 0; i < 8; ++i) engine_->pump(std::chrono::milliseconds(1));
  }
  // First contact from `peer`, answered: the challenge the engine gave it.
  common::Digest challenge_for(const PeerId& peer) {
    channel_.push_typed(peer, MessageType::kRegister, test::registration_of(worker_));
    pump_all();
    return last_ack(peer).challenge;
  }
  common::RegisterRequest bound(const common::Digest& challenge,
                                const std::string& job = "job") const {
    auto r = test::registration_of(worker_);
    r.job_id = job;
    r.coordinator_key = coordinator_.public_key;
    r.challenge = challenge;
    common::sign_registration(r, worker_.secret_key);
    return r;
  }

  common::KeyPair coordinator_ = common::key_pair_from_label("coordinator");
  common::KeyPair worker_ = common::key_pair_from_label("worker");
  FakeWorkerChannel channel_;
  WorkerRegistry registry_{true, {}};
  std::atomic<bool> stop_{false};
  std::unique_ptr<RoundEngine> engine_;
};

TEST_F(RegistrationBinding, FirstContactGetsASignedChallengeAndNoEnrolment) {
  const auto challenge = challenge_for("conn-1");
  const auto ack = last_ack("conn-1");
  EXPECT_FALSE(ack.accepted);
  EXPECT_NE(challenge, common::Digest{});
  EXPECT_EQ(ack.coordinator_key, coordinator_.public_key);
  EXPECT_TRUE(common::verify_register_ack(ack, coordinator_.public_key));
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(RegistrationBinding, ARegistrationSignedOverTheChallengeEnrols) {
  channel_.push_typed("conn-1", MessageType::kRegister, bound(challenge_for("conn-1")));
  pump_all();
  EXPECT_TRUE(last_ack("conn-1").accepted) << last_ack("conn-1").reason;
  EXPECT_EQ(registry_.size(), 1u);
}

TEST_F(RegistrationBinding, ARegistrationReplayedFromAnotherConnectionIsRefused) {
  const std::string recorded = common::encode(bound(challenge_for("conn-1")));
  challenge_for("attacker");
  channel_.push("attacker", MessageType::kRegister, recorded);
  pump_all();
  const auto ack = last_ack("attacker");
  EXPECT_FALSE(ack.accepted);
  EXPECT_NE(ack.reason.find("does not answer this connection's challenge"), std::string::npos)
      << ack.reason;
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(RegistrationBinding, ARegistrationForAnotherJobIsRefused) {
  channel_.push_typed("conn-1", MessageType::kRegister,
                      bound(challenge_for("conn-1"), "other-job"));
  pump_all();
  EXPECT_NE(last_ack("conn-1").reason.find("it is for job 'other-job'"), std::string::npos)
      << last_ack("conn-1").reason;
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(RegistrationBinding, AConnectionAuthenticatedAsAnotherKeyCannotRegisterThisOne) {
  channel_.authenticated_as["conn-1"] =
      common::curve_key_pair(common::key_pair_from_label("thief")).public_key;
  channel_.push_typed("conn-1", MessageType::kRegister, bound(challenge_for("conn-1")));
  pump_all();
  EXPECT_NE(last_ack("conn-1").reason.find("authenticated with another key"), std::string::npos)
      << last_ack("conn-1").reason;
  EXPECT_EQ(registry_.size(), 0u);
}

TEST_F(RegistrationBinding, AConnectionAuthenticatedAsTheRegisteringKeyEnrols) {
  channel_.authenticated_as["conn-1"] = common::curve_key_pair(worker_).public_key;
  channel_.push_typed("conn-1", MessageType::kRegister, bound(challenge_for("conn-1")));
  pump_all();
  EXPECT_TRUE(last_ack("conn-1").accepted) << last_ack("conn-1").reason;
}

TEST_F(RegistrationBinding, ShutdownIsSignedByTheCoordinator) {
  channel_.push_typed("conn-1", MessageType::kRegister, bound(challenge_for("conn-1")));
  pump_all();
  engine_->shutdown_all("done");
  const auto shutdowns = channel_.sent_of_type(MessageType::kShutdown);
  ASSERT_EQ(shutdowns.size(), 1u);
  EXPECT_TRUE(common::verify_shutdown(shutdowns[0].header_as<common::Shutdown>().value(),
                                      coordinator_.public_key));
}

}  // namespace
}  // namespace fl::coordinator
