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
  InboundMessage update_from(const common::KeyPair& key, float start = 0.0f, std::uint64_t samples = 100) {
    auto u = test::make_signed_update(key, "job", 3, plan_.layout, test::ramp(9, start));
    u.header.base_model_digest = plan_.base_model_digest;
    u.header.num_samples = samples;
    common::sign_update(u.header, key.secret_key);
    return {"peer", common::MessageType::kUpdate, SharedBytes::copy_of(common::encode(u.header)),
            SharedBytes::copy_of(u.payload()), ""};
  }
  // Signed by `key`, refused after its signature verified (the sample count is over the limit).
  InboundMessage refused_update_from(const common::KeyPair& key, float start = 0.0f) {
    return update_from(key, start, 5000);
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
  EXPECT_EQ(c.offer(refused_update_from(keys_[1]), &keys_[1].public_key).kind, OfferOutcome::Kind::kRejected);
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

TEST_F(RoundCollectorTest, JunkThatProvesNothingAboutAKeyIsCountedAndNotRecorded) {
  plan_.sampled.erase(keys_[3].public_key);
  RoundCollector c(plan_);
  auto garbage = update_from(keys_[0]);
  garbage.header = SharedBytes::copy_of(std::string_view("garbage"));
  c.offer(garbage, &keys_[0].public_key);
  c.offer(update_from(keys_[0]), nullptr);               // no key registered on the connection
  c.offer(update_from(keys_[0]), &keys_[1].public_key);  // names a key the connection did not register
  auto forged = update_from(keys_[0]);
  forged.payload = SharedBytes::copy_of(std::string_view("short"));  // no longer what was signed
  c.offer(forged, &keys_[0].public_key);
  c.offer(update_from(keys_[3]), &keys_[3].public_key);  // signed, but not asked
  EXPECT_TRUE(c.awaiting(keys_[0].public_key));          // nothing was charged to worker 0
  auto round = std::move(c).finish("deadline");
  EXPECT_TRUE(round.rejected.empty());
  EXPECT_EQ(round.unrecorded.undecodable, 1u);
  EXPECT_EQ(round.unrecorded.unregistered, 2u);
  EXPECT_EQ(round.unrecorded.bad_signature, 1u);
  EXPECT_EQ(round.unrecorded.unsampled, 1u);
}

TEST_F(RoundCollectorTest, RejectionsOnTheLedgerAreCappedPerWorkerPerRound) {
  RoundCollector c(plan_);
  for (int i = 0; i < 10; ++i) c.offer(refused_update_from(keys_[0], static_cast<float>(i)), &keys_[0].public_key);
  auto round = std::move(c).finish("deadline");
  EXPECT_EQ(round.rejected.size(), kMaxLedgerRejectionsPerWorker);
  EXPECT_EQ(round.unrecorded.over_cap, 10 - kMaxLedgerRejectionsPerWorker);
}

TEST_F(RoundCollectorTest, ALongRejectionReasonIsCutToTheBoundBeforeItIsRecorded) {
  common::TensorLayout huge;
  for (int i = 0; i < 100; ++i) huge.tensors.push_back({"a_rather_long_tensor_name_" + std::to_string(i), {1}});
  auto u = test::make_signed_update(keys_[0], "job", 3, huge, test::ramp(100));
  u.header.base_model_digest = plan_.base_model_digest;
  common::sign_update(u.header, keys_[0].secret_key);
  RoundCollector c(plan_);
  c.offer({"peer", common::MessageType::kUpdate, SharedBytes::copy_of(common::encode(u.header)),
           SharedBytes::copy_of(u.payload()), ""},
          &keys_[0].public_key);
  auto round = std::move(c).finish("deadline");
  ASSERT_EQ(round.rejected.size(), 1u);
  EXPECT_EQ(round.rejected[0].reason.size(), kMaxLedgerReasonChars);
  EXPECT_EQ(round.rejected[0].reason.find("wrong shape"), 0u);
}

TEST_F(RoundCollectorTest, NewcomersDoNotHoldTheRoundOpenOnceEveryWorkerWithHistoryAnswered) {
  plan_.newcomers = {keys_[2].public_key, keys_[3].public_key};
  RoundCollector c(plan_);
  c.offer(update_from(keys_[0]), &keys_[0].public_key);
  EXPECT_FALSE(c.close_reason(t0_));
  c.offer(update_from(keys_[1]), &keys_[1].public_key);
  EXPECT_EQ(c.close_reason(t0_), "all answered but newcomers");
}

TEST_F(RoundCollectorTest, ARoundOfOnlyNewcomersWaitsForThemAsUsual) {
  for (const auto& k : keys_) plan_.newcomers.insert(k.public_key);
  RoundCollector c(plan_);
  c.offer(update_from(keys_[0]), &keys_[0].public_key);
  EXPECT_FALSE(c.close_reason(t0_));
}

}  // namespace
}  // namespace fl::coordinator
