// The round engine over the in-process fake channel: quorum, soft and hard deadlines, resends,
// late updates, equivocation, forged signatures, task errors, a worker that drops and rejoins
// mid-round, and a rule that refuses. No sockets, one thread, deterministic.
#include <gtest/gtest.h>

#include <atomic>
#include <map>

#include "fake_worker_channel.hpp"
#include "fl/coordinator/round.hpp"
#include "fl/coordinator/round_engine.hpp"

namespace fl::coordinator {
namespace {

using common::MessageType;
using test::FakeWorker;
using test::FakeWorkerChannel;

class FixedEvaluator : public ModelEvaluator {
 public:
  Result<EvalMetrics> evaluate(std::span<const float>) override { return EvalMetrics{0.5, 0.9, 10, 0.0}; }
};

class RoundEngineTest : public ::testing::Test {
 protected:
  void make_engine(std::size_t workers, double soft_s = 0.05, double hard_s = 0.3) {
    std::vector<common::PublicKey> allowed;
    for (std::size_t i = 0; i < workers; ++i) {
      workers_.emplace_back("worker-" + std::to_string(i));
      allowed.push_back(workers_.back().key.public_key);
    }
    registry_ = std::make_unique<WorkerRegistry>(false, allowed);
    EngineSettings s;
    s.job_id = "job";
    s.model = "test";
    s.layout = test::small_layout();
    s.sampling = {1.0, static_cast<int>(workers)};
    s.quorum_fraction = 0.5;
    s.soft_deadline_s = soft_s;
    s.deadline_s = hard_s;
    s.registration_wait_s = 1;
    s.heartbeat_timeout_s = 0;
    s.on_equivocation = [this](std::uint64_t, const Equivocation& e) { equivocations_.push_back(e); };
    engine_ = std::make_unique<RoundEngine>(s, channel_, *registry_, coordinator_, stop_);
    for (const auto& w : workers_) w.join(channel_);
  }
  const FakeWorker* worker_at(const PeerId& peer) const {
    for (const auto& w : workers_) {
      if (w.peer == peer) return &w;
    }
    return nullptr;
  }
  // Workers answer their task at once with values v_i = i + 1 (or not at all when silent).
  void answer_tasks(std::set<std::string> silent = {}) {
    channel_.on_send = [this, silent](const FakeWorkerChannel::Sent& s) {
      if (s.type != MessageType::kRoundTask || silent.count(s.peer)) return;
      auto task = s.header_as<common::RoundTask>();
      ASSERT_TRUE(task.ok());
      const auto* w = worker_at(s.peer);
      ASSERT_NE(w, nullptr);
      w->answer(channel_, *task, std::vector<float>(9, static_cast<float>(w - workers_.data() + 1)));
    };
  }
  Result<CollectedRound> collect(std::uint64_t round = 1) {
    return engine_->collect(round, global_, common::digest_of(global_));
  }
  std::vector<common::UpdateAck> acks() const {
    std::vector<common::UpdateAck> out;
    for (const auto& s : channel_.sent_of_type(MessageType::kUpdateAck)) {
      auto ack = s.header_as<common::UpdateAck>();
      EXPECT_TRUE(ack.ok());
      EXPECT_TRUE(common::verify_update_ack(*ack, coordinator_.public_key));
      out.push_back(*ack);
    }
    return out;
  }

  FakeWorkerChannel channel_;
  std::vector<FakeWorker> workers_;
  std::unique_ptr<WorkerRegistry> registry_;
  std::unique_ptr<RoundEngine> engine_;
  common::KeyPair coordinator_ = common::key_pair_from_label("coordinator");
  std::atomic<bool> stop_{false};
  std::vector<float> global_ = std::vector<float>(9, 0.0f);
  std::vector<Equivocation> equivocations_;
  std::unique_ptr<ContributionScorer> cosine_ = std::move(make_scorer("cosine")).value();
};

TEST_F(RoundEngineTest, ClosesAsSoonAsEverySampledWorkerAnswered) {
  make_engine(3, /*soft_s=*/10, /*hard_s=*/20);
  answer_tasks();
  auto round = collect();
  ASSERT_TRUE(round.ok()) << round.error().to_string();
  EXPECT_EQ(round->close_reason, "all answered");
  ASSERT_EQ(round->accepted.size(), 3u);
  EXPECT_TRUE(round->accepted[0].header.worker_key < round->accepted[1].header.worker_key);
  EXPECT_TRUE(round->never_answered.empty());
  EXPECT_EQ(acks().size(), 3u);
}

TEST_F(RoundEngineTest, ClosesOnTheQuorumOnceTheSoftDeadlinePassed) {
  make_engine(3, /*soft_s=*/0.05, /*hard_s=*/20);
  answer_tasks({workers_[2].peer});
  const auto start = std::chrono::steady_clock::now();
  auto round = collect();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->close_reason, "quorum after soft deadline");
  EXPECT_GE(std::chrono::steady_clock::now() - start, std::chrono::milliseconds(50));
  EXPECT_EQ(round->accepted.size(), 2u);
  ASSERT_EQ(round->never_answered.size(), 1u);
  EXPECT_EQ(round->never_answered[0], workers_[2].key.public_key);
}

TEST_F(RoundEngineTest, ClosesAtTheHardDeadlineWhenTheQuorumNeverArrives) {
  make_engine(4, /*soft_s=*/0.02, /*hard_s=*/0.15);
  answer_tasks({workers_[1].peer, workers_[2].peer, workers_[3].peer});  // quorum is 2 of 4
  auto round = collect();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->close_reason, "deadline");
  EXPECT_EQ(round->accepted.size(), 1u);
  EXPECT_EQ(round->never_answered.size(), 3u);
}

TEST_F(RoundEngineTest, IgnoresAResentUpdateAndRefusesALateOne) {
  make_engine(2, 10, 20);
  common::RoundTask last_task;
  channel_.on_send = [&](const FakeWorkerChannel::Sent& s) {
    if (s.type != MessageType::kRoundTask) return;
    last_task = *s.header_as<common::RoundTask>();
    const auto* w = worker_at(s.peer);
    w->answer(channel_, last_task, test::ramp(9));
    w->answer(channel_, last_task, test::ramp(9));  // the same signed update again
  };
  auto round = collect();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->accepted.size(), 2u);
  EXPECT_TRUE(round->rejected.empty());
  EXPECT_EQ(acks().size(), 2u);  // one answer per update, none for the resend

  workers_[0].answer(channel_, last_task, test::ramp(9, 1.0f));  // after the round closed
  engine_->pump(std::chrono::milliseconds(1));
  const auto errors = channel_.sent_of_type(MessageType::kError);
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_NE(errors[0].header_as<common::ErrorMessage>()->reason.find("late"),
            std::string::npos);
}

TEST_F(RoundEngineTest, EquivocationRejectsBothUpdatesAndKeepsTheEvidence) {
  make_engine(2, 10, 0.2);
  channel_.on_send = [&](const FakeWorkerChannel::Sent& s) {
    if (s.type != MessageType::kRoundTask) return;
    const auto task = *s.header_as<common::RoundTask>();
    const auto* w = worker_at(s.peer);
    w->answer(channel_, task, test::ramp(9));
    if (w == &workers_[0]) w->answer(channel_, task, test::ramp(9, 5.0f));  // a second, different one
  };
  auto round = collect();
  ASSERT_TRUE(round.ok());
  ASSERT_EQ(round->accepted.size(), 1u);
  EXPECT_EQ(round->accepted[0].header.worker_key, workers_[1].key.public_key);
  ASSERT_EQ(round->rejected.size(), 2u);
  for (const auto& r : round->rejected) {
    EXPECT_EQ(r.worker, workers_[0].key.public_key);
    EXPECT_NE(r.reason.find("equivocation"), std::string::npos);
  }
  ASSERT_EQ(equivocations_.size(), 1u);
  EXPECT_NE(equivocations_[0].first, equivocations_[0].second);
}

TEST_F(RoundEngineTest, AnUpdateNamingAnotherWorkersKeyIsChargedToNoOne) {
  make_engine(2, 10, 0.2);
  channel_.on_send = [&](const FakeWorkerChannel::Sent& s) {
    if (s.type != MessageType::kRoundTask) return;
    const auto task = *s.header_as<common::RoundTask>();
    if (s.peer == workers_[0].peer) {
      workers_[0].answer(channel_, task, test::ramp(9));
      return;
    }
    // Worker 1 sends an update claiming to be worker 0, signed with its own key.
    auto u = test::make_signed_update(workers_[0].key, "job", task.round, task.layout, test::ramp(9));
    u.header.base_model_digest = task.model_digest;
    common::sign_update(u.header, workers_[1].key.secret_key);
    channel_.push_typed(workers_[1].peer, MessageType::kUpdate, u.header, u.payload());
  };
  auto round = collect();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->accepted.size(), 1u);
  EXPECT_TRUE(round->rejected.empty());
  EXPECT_EQ(round->unrecorded.unregistered, 1u);
}

TEST_F(RoundEngineTest, AWorkerThatCannotDoTheTaskCountsAsAnsweredAndIsNamed) {
  make_engine(2, 10, 20);
  channel_.on_send = [&](const FakeWorkerChannel::Sent& s) {
    if (s.type != MessageType::kRoundTask) return;
    const auto task = *s.header_as<common::RoundTask>();
    if (s.peer == workers_[0].peer) {
      channel_.push_typed(s.peer, MessageType::kTaskError, common::TaskError{"job", task.round, "data is 16x16"});
    } else {
      workers_[1].answer(channel_, task, test::ramp(9));
    }
  };
  auto round = collect();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(round->close_reason, "all answered");
  ASSERT_EQ(round->task_failures.size(), 1u);
  EXPECT_EQ(round->task_failures[0].worker, workers_[0].key.public_key);
  EXPECT_EQ(round->task_failures[0].reason, "data is 16x16");
}

TEST_F(RoundEngineTest, AWorkerThatDropsAndRejoinsMidRoundGetsTheTaskAgain) {
  make_engine(2, 10, 20);
  int tasks_to_worker0 = 0;
  channel_.on_send = [&](const FakeWorkerChannel::Sent& s) {
    if (s.type != MessageType::kRoundTask) return;
    const auto task = *s.header_as<common::RoundTask>();
    if (s.peer == workers_[1].peer) {
      workers_[1].answer(channel_, task, test::ramp(9));
    } else if (s.peer == "worker-0-reconnected") {
      ++tasks_to_worker0;
      workers_[0].answer(channel_, task, test::ramp(9, 2.0f));
    } else if (s.peer == "worker-0-conn") {
      ++tasks_to_worker0;
      workers_[0].peer = "worker-0-reconnected";  // it restarted: a new connection
      workers_[0].join(channel_);
    }
  };
  auto round = collect();
  ASSERT_TRUE(round.ok());
  EXPECT_EQ(tasks_to_worker0, 2);
  EXPECT_EQ(round->close_reason, "all answered");
  EXPECT_EQ(round->accepted.size(), 2u);
}

TEST_F(RoundEngineTest, AStopRequestEndsCollectionWithAClearError) {
  make_engine(2, 10, 20);
  channel_.on_send = [&](const FakeWorkerChannel::Sent& s) {
    if (s.type == MessageType::kRoundTask) stop_ = true;
  };
  auto round = collect();
  ASSERT_FALSE(round.ok());
  EXPECT_NE(round.error().message.find("stopped"), std::string::npos);
}

TEST_F(RoundEngineTest, GivingUpOnRegistrationTellsTheRegisteredWorkers) {
  make_engine(2, 10, 20);
  // Only one of the two workers registers.
  channel_ = FakeWorkerChannel();
  workers_[0].join(channel_);
  auto status = engine_->wait_for_workers();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().code, ErrorCode::kTimeout);
  EXPECT_NE(status.error().message.find("registration_wait_s"), std::string::npos);
  EXPECT_EQ(channel_.sent_of_type(MessageType::kShutdown).size(), 1u);
}

TEST_F(RoundEngineTest, ARuleThatRefusesKeepsTheGlobalModelAndSaysWhy) {
  make_engine(3, 10, 20);
  answer_tasks();
  auto round = collect();
  ASSERT_TRUE(round.ok());
  RuleOptions options;
  options.f = 2;
  auto krum = make_rule("krum", options);  // needs n >= 2f + 3 = 7
  ASSERT_TRUE(krum.ok());
  FixedEvaluator evaluator;
  auto closed = close_round(global_, *round, **krum, *cosine_, evaluator, CloseSettings{});
  ASSERT_TRUE(closed.ok());
  EXPECT_NE(closed->outcome.find("rule refused"), std::string::npos);
  EXPECT_EQ(closed->global, global_);
  EXPECT_EQ(closed->model_digest, common::digest_of(global_));
}

TEST_F(RoundEngineTest, CloseRoundAppliesTheServerStepToTheAggregate) {
  make_engine(3, 10, 20);
  answer_tasks();  // values 1, 2, 3 everywhere
  auto round = collect();
  ASSERT_TRUE(round.ok());
  auto median = make_rule("median", RuleOptions{});
  FixedEvaluator evaluator;
  auto closed = close_round(global_, *round, **median, *cosine_, evaluator, CloseSettings{0.5});
  ASSERT_TRUE(closed.ok());
  EXPECT_TRUE(closed->outcome.empty());
  EXPECT_FLOAT_EQ(closed->global[0], 1.0f);  // 0 + 0.5 * median(1, 2, 3)
  EXPECT_EQ(closed->scores.size(), 3u);
  EXPECT_DOUBLE_EQ(closed->eval.accuracy, 0.9);
}

TEST(SampleWorkers, AsksAtLeastMinWorkersAndTheCeilingOfTheFraction) {
  std::vector<common::PublicKey> keys;
  for (int i = 0; i < 10; ++i) keys.push_back(common::key_pair_from_label("k" + std::to_string(i)).public_key);
  EXPECT_EQ(sample_workers(keys, {0.25, 1}, 7, 1).size(), 3u);  // ceil(2.5)
  EXPECT_EQ(sample_workers(keys, {0.1, 4}, 7, 1).size(), 4u);
  EXPECT_EQ(sample_workers(keys, {0.5, 20}, 7, 1).size(), 10u);
  const auto a = sample_workers(keys, {0.3, 1}, 7, 3);
  EXPECT_EQ(a, sample_workers(keys, {0.3, 1}, 7, 3));
  EXPECT_TRUE(std::is_sorted(a.begin(), a.end()));
  std::vector<common::PublicKey> reversed(keys.rbegin(), keys.rend());
  EXPECT_EQ(a, sample_workers(reversed, {0.3, 1}, 7, 3));  // input order does not matter
}

}  // namespace
}  // namespace fl::coordinator
