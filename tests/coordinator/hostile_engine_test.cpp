// The round engine under hostile input, over the in-process fake channel: garbage floods,
// junk from unregistered and unsampled keys, a sampled worker sending junk again and again,
// sybil registrations, and one peer flooding messages. Each must leave the honest round as it
// would be without them, and put nothing on the record that no key signed.
#include <gtest/gtest.h>

#include <atomic>
#include <optional>

#include "fake_worker_channel.hpp"
#include "fl/coordinator/round_engine.hpp"

namespace fl::coordinator {
namespace {

using common::MessageType;
using test::FakeWorker;
using test::FakeWorkerChannel;

class HostileEngineTest : public ::testing::Test {
 protected:
  // Open enrolment: `honest` workers that answer every task at once.
  void make_engine(std::size_t honest, EnrolmentLimits limits = {}, SamplingRequirement requirement = {},
                   RateLimit peer_messages = {0, 1}) {
    for (std::size_t i = 0; i < honest; ++i) workers_.emplace_back("honest-" + std::to_string(i));
    registry_ = std::make_unique<WorkerRegistry>(true, std::vector<common::PublicKey>{}, limits);
    EngineSettings s;
    s.job_id = "job";
    s.model = "test";
    s.layout = test::small_layout();
    s.sampling = {1.0, static_cast<int>(honest)};
    s.sampling_requirement = requirement;
    s.peer_messages = peer_messages;
    s.soft_deadline_s = 5;
    s.deadline_s = 10;
    s.registration_wait_s = 1;
    s.heartbeat_timeout_s = 0;
    engine_ = std::make_unique<RoundEngine>(s, channel_, *registry_, coordinator_, stop_);
    for (const auto& w : workers_) w.join(channel_, "10.0.0.1");
    channel_.on_send = [this](const FakeWorkerChannel::Sent& sent) {
      if (sent.type != MessageType::kRoundTask) return;
      if (on_task) on_task(sent);  // before the honest answer, so the round cannot close first
      for (const auto& w : workers_) {
        if (w.peer == sent.peer) w.answer(channel_, *sent.header_as<common::RoundTask>(), std::vector<float>(9, 1.0f));
      }
    };
  }
  Result<CollectedRound> collect(std::uint64_t round) {
    return engine_->collect(round, global_, common::digest_of(global_));
  }
  // A signed update from `key` for `task` (refused after verification when samples is 0).
  common::UpdateHeader update(const common::KeyPair& key, const common::RoundTask& task, std::uint64_t samples,
                              std::vector<float>& values) {
    values = std::vector<float>(9, 0.5f);
    auto u = test::make_signed_update(key, task.job_id, task.round, task.layout, values);
    u.header.base_model_digest = task.model_digest;
    u.header.num_samples = samples;
    common::sign_update(u.header, key.secret_key);
    return u.header;
  }

  FakeWorkerChannel channel_;
  std::vector<FakeWorker> workers_;
  std::function<void(const FakeWorkerChannel::Sent&)> on_task;
  std::unique_ptr<WorkerRegistry> registry_;
  std::unique_ptr<RoundEngine> engine_;
  common::KeyPair coordinator_ = common::key_pair_from_label("coordinator");
  std::atomic<bool> stop_{false};
  std::vector<float> global_ = std::vector<float>(9, 0.0f);
};

TEST_F(HostileEngineTest, AFloodOfGarbageIsCountedAndRecordsNothing) {
  make_engine(2);
  on_task = [&](const FakeWorkerChannel::Sent& sent) {
    if (sent.peer != workers_[0].peer) return;
    const auto task = *sent.header_as<common::RoundTask>();
    for (int i = 0; i < 200; ++i) {
      const auto peer = "flood-" + std::to_string(i);
      channel_.push_malformed(peer);
      channel_.push(peer, MessageType::kUpdate, "not a header");
      channel_.push(peer, MessageType::kRegister, "not a registration");
      std::vector<float> values;
      const auto stranger = common::key_pair_from_label("stranger-" + std::to_string(i));
      const auto by_stranger = update(stranger, task, 10, values);
      channel_.push_typed(peer, MessageType::kUpdate, by_stranger, common::as_bytes(values));
      // Naming an honest worker's key from another connection.
      const auto naming_honest = update(workers_[1].key, task, 10, values);
      channel_.push_typed(peer, MessageType::kUpdate, naming_honest, common::as_bytes(values));
    }
  };
  auto round = collect(1);
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->accepted.size(), 2u);
  EXPECT_TRUE(round->rejected.empty());
  EXPECT_EQ(round->unrecorded.undecodable, 400u);  // 200 malformed frames + 200 bad update headers
  EXPECT_EQ(round->unrecorded.unregistered, 400u);
  EXPECT_EQ(round->unrecorded.registrations_refused, 200u);
}

TEST_F(HostileEngineTest, AnUnsampledKeysSignedJunkIsNotOnTheRecord) {
  make_engine(2);
  const FakeWorker outsider("outsider");
  on_task = [&](const FakeWorkerChannel::Sent& sent) {
    if (sent.peer != workers_[0].peer) return;
    // Registered after sampling: its signed update is verified but it was not asked.
    outsider.join(channel_, "10.0.0.2");
    std::vector<float> values;
    const auto h = update(outsider.key, *sent.header_as<common::RoundTask>(), 0, values);
    channel_.push_typed(outsider.peer, MessageType::kUpdate, h, common::as_bytes(values));
  };
  auto round = collect(1);
  ASSERT_TRUE(round.ok());
  EXPECT_TRUE(round->rejected.empty());
  EXPECT_EQ(round->unrecorded.unsampled, 1u);
}

TEST_F(HostileEngineTest, ASampledWorkersRejectionsOnTheRecordAreCappedPerRound) {
  make_engine(2);
  workers_.pop_back();  // worker 1 is registered and sampled, but sends only junk
  const FakeWorker junk_sender("honest-1");
  on_task = [&](const FakeWorkerChannel::Sent& sent) {
    if (sent.peer != junk_sender.peer) return;
    for (int i = 0; i < 50; ++i) {
      std::vector<float> values;
      auto h = update(junk_sender.key, *sent.header_as<common::RoundTask>(), 0, values);
      values[0] = static_cast<float>(i);  // each one different
      h.payload_digest = common::blake2b_256(common::as_bytes(values));
      common::sign_update(h, junk_sender.key.secret_key);
      channel_.push_typed(junk_sender.peer, MessageType::kUpdate, h, common::as_bytes(values));
    }
  };
  auto round = collect(1);
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->rejected.size(), kMaxLedgerRejectionsPerWorker);
  EXPECT_EQ(round->unrecorded.over_cap, 50 - kMaxLedgerRejectionsPerWorker);
  for (const auto& r : round->rejected) EXPECT_LE(r.reason.size(), kMaxLedgerReasonChars);
}

TEST_F(HostileEngineTest, SybilsOverTheRegistrationLimitAreRefusedAndDoNotDelayTheNextRound) {
  make_engine(2, {1000, 5});
  ASSERT_TRUE(collect(1).ok());  // the honest workers now have a history
  std::vector<FakeWorker> sybils;
  for (int i = 0; i < 300; ++i) sybils.emplace_back("sybil-" + std::to_string(i));
  for (const auto& s : sybils) s.join(channel_, "10.6.6.6");
  for (int i = 0; i < 300; ++i) engine_->pump(std::chrono::milliseconds(0));
  const auto start = std::chrono::steady_clock::now();
  auto round = collect(2);  // admitted sybils are sampled as newcomers and never answer
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(registry_->size(), 2u + 5u);
  EXPECT_EQ(round->unrecorded.registrations_refused, 295u);
  EXPECT_EQ(round->accepted.size(), 2u);
  EXPECT_EQ(round->close_reason, "all answered but newcomers");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(2));
}

TEST_F(HostileEngineTest, ANewcomerThatAnswersLateStillEarnsItsHistory) {
  make_engine(2);
  ASSERT_TRUE(collect(1).ok());
  const FakeWorker late("late-newcomer");
  late.join(channel_, "10.0.0.3");
  engine_->pump(std::chrono::milliseconds(0));  // first contact: the engine sends a challenge
  engine_->pump(std::chrono::milliseconds(0));  // the signed answer registers it
  std::optional<common::RoundTask> its_task;
  on_task = [&](const FakeWorkerChannel::Sent& sent) {
    if (sent.peer == late.peer) its_task = *sent.header_as<common::RoundTask>();
  };
  auto round = collect(2);
  ASSERT_TRUE(round.ok());
  ASSERT_TRUE(its_task);  // sampled as a newcomer, and not waited for
  EXPECT_EQ(round->close_reason, "all answered but newcomers");
  EXPECT_FALSE(registry_->has_answered(late.key.public_key));
  late.answer(channel_, *its_task, std::vector<float>(9, 1.0f));
  engine_->pump(std::chrono::milliseconds(0));
  EXPECT_TRUE(registry_->has_answered(late.key.public_key));
}

TEST_F(HostileEngineTest, WithAnApprovalFileSybilsAreNeverSampled) {
  test::TempDir dir;
  std::string approved;
  for (int i = 0; i < 2; ++i) approved += common::to_hex(common::key_pair_from_label("honest-" + std::to_string(i)).public_key) + "\n";
  test::write_file(dir / "approved.txt", approved);
  make_engine(2, {1000, 1000}, {0, dir / "approved.txt", 0.25});
  for (int i = 0; i < 50; ++i) {
    const FakeWorker s("sybil-" + std::to_string(i));
    s.join(channel_, "10.6.6.6");
  }
  ASSERT_TRUE(engine_->wait_for_workers().ok());
  for (int i = 0; i < 60; ++i) engine_->pump(std::chrono::milliseconds(0));
  auto round = collect(1);
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->sampled, 2u);
  EXPECT_EQ(round->close_reason, "all answered");
}

TEST_F(HostileEngineTest, APeerOverItsMessageRateIsDroppedWhileTheRoundCompletes) {
  make_engine(2, {}, {}, {10, 20});
  on_task = [&](const FakeWorkerChannel::Sent& sent) {
    if (sent.peer != workers_[0].peer) return;
    for (int i = 0; i < 500; ++i) channel_.push("chatty", MessageType::kHeartbeat, "");
  };
  auto round = collect(1);
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->accepted.size(), 2u);
  EXPECT_GE(round->unrecorded.rate_limited, 450u);
}

}  // namespace
}  // namespace fl::coordinator
