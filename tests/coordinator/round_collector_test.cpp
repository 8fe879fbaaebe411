// RoundCollector's closing rules at exact times (no clock of its own, so no sleeps).
#include <gtest/gtest.h>

#include "fl/coordinator/round_collector.hpp"
#include "support/builders.hpp"

namespace fl::coordinator {
namespace {

using namespace std::chrono_literals;

class RoundCollectorTest : public ::testing::Test {
 protected:
  RoundCollectorTest() {
    for (int i = 0; i < 4; ++i) keys_.push_back(common::key_pair_from_label("w" + std::to_string(i)));
    plan_.job_id = "job";
    plan_.round = 3;
    plan_.base_model_digest = common::blake2b_256(std::string_view("global"));
    plan_.layout = test::small_layout();
    for (const auto& k : keys_) plan_.sampled.insert(k.public_key);
    plan_.max_samples = 1000;
    plan_.quorum = quorum_for(0.5, plan_.sampled.size());
    plan_.soft_deadline = t0_ + 10s;
    plan_.hard_deadline = t0_ + 60s;
  }
  InboundMessage update_from(const common::KeyPair& key, float start = 0.0f) {
    auto u = test::make_signed_update(key, "job", 3, plan_.layout, test::ramp(9, start));
    u.header.base_model_digest = plan_.base_model_digest;
    common::sign_update(u.header, key.secret_key);
    return {"peer", common::MessageType::kUpdate, SharedBytes::copy_of(common::encode(u.header)),
            SharedBytes::copy_of(u.payload())};
  }

  std::vector<common::KeyPair> keys_;
  RoundPlan plan_;
  RoundClock::time_point t0_ = RoundClock::now();
};

TEST_F(RoundCollectorTest, QuorumIsTheCeilingOfTheFractionAndAtLeastOne) {
  EXPECT_EQ(quorum_for(0.5, 4), 2u);
  EXPECT_EQ(quorum_for(0.75, 3), 3u);
  EXPECT_EQ(quorum_for(0.0, 5), 1u);
}

TEST_F(RoundCollectorTest, StaysOpenBeforeTheSoftDeadlineEvenWithTheQuorumIn) {
  RoundCollector c(plan_);
  EXPECT_EQ(c.offer(update_from(keys_[0]), &keys_[0].public_key).kind, OfferOutcome::Kind::kAccepted);
  EXPECT_EQ(c.offer(update_from(keys_[1]), &keys_[1].public_key).kind, OfferOutcome::Kind::kAccepted);
  EXPECT_FALSE(c.close_reason(t0_ + 9s));
  EXPECT_EQ(c.close_reason(t0_ + 10s), "quorum after soft deadline");
}

TEST_F(RoundCollectorTest, WithoutTheQuorumWaitsUntilTheHardDeadline) {
  RoundCollector c(plan_);
  c.offer(update_from(keys_[0]), &keys_[0].public_key);
  EXPECT_FALSE(c.close_reason(t0_ + 30s));
  EXPECT_EQ(c.close_reason(t0_ + 60s), "deadline");
}

TEST_F(RoundCollectorTest, RejectionsAndTaskFailuresCountAsAnswers) {
  RoundCollector c(plan_);
  c.offer(update_from(keys_[0]), &keys_[0].public_key);
  auto bad = update_from(keys_[1]);
  bad.payload = SharedBytes::copy_of(std::string_view("short"));
  EXPECT_EQ(c.offer(bad, &keys_[1].public_key).kind, OfferOutcome::Kind::kRejected);
  EXPECT_TRUE(c.task_failed(keys_[2].public_key, "out of memory"));
  EXPECT_FALSE(c.task_failed(keys_[2].public_key, "again"));  // once
  EXPECT_TRUE(c.awaiting(keys_[3].public_key));
  EXPECT_FALSE(c.close_reason(t0_));
  c.offer(update_from(keys_[3]), &keys_[3].public_key);
  EXPECT_EQ(c.close_reason(t0_), "all answered");
  auto round = std::move(c).finish("all answered");
  EXPECT_EQ(round.accepted.size(), 2u);
  EXPECT_EQ(round.rejected.size(), 1u);
  EXPECT_EQ(round.task_failures.size(), 1u);
  EXPECT_TRUE(round.never_answered.empty());
}

TEST_F(RoundCollectorTest, AnUpdateFromAWorkerNotAskedIsRejected) {
  plan_.sampled.erase(keys_[3].public_key);
  RoundCollector c(plan_);
  auto outcome = c.offer(update_from(keys_[3]), &keys_[3].public_key);
  EXPECT_EQ(outcome.kind, OfferOutcome::Kind::kRejected);
  EXPECT_NE(outcome.ack.reason.find("was not asked"), std::string::npos);
}

TEST_F(RoundCollectorTest, EquivocationAfterAcceptanceMovesTheFirstUpdateToRejected) {
  RoundCollector c(plan_);
  c.offer(update_from(keys_[0]), &keys_[0].public_key);
  auto second = c.offer(update_from(keys_[0], 7.0f), &keys_[0].public_key);
  EXPECT_EQ(second.kind, OfferOutcome::Kind::kRejected);
  ASSERT_TRUE(second.equivocation);
  auto round = std::move(c).finish("deadline");
  EXPECT_TRUE(round.accepted.empty());
  EXPECT_EQ(round.rejected.size(), 2u);
}

}  // namespace
}  // namespace fl::coordinator
