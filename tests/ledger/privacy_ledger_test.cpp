// A DP job's budget on the ledger: the open-job declares (epsilon, delta), each round result
// records (C, sigma, q) and the cumulative epsilon, and the ledger's rules re-account every
// round with the same accountant, on write and again in verify_ledger (`fl-ledger verify`).
#include <gtest/gtest.h>

#include "fl/common/merkle.hpp"
#include "fl/common/rdp_composition.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/block_store.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

constexpr double kSigma = 1.1;
constexpr double kSampleRate = 0.5;
constexpr double kDelta = 1e-5;

JobRecord dp_job(double epsilon) {
  auto job = test::job_record();
  job.privacy_budget = PrivacyBudget{epsilon, kDelta};
  return job;
}

// Round `round` of job-1 recording the honest cumulative epsilon after it (held in `spent`).
RoundRecord dp_round(std::uint64_t round, common::RdpComposition& spent) {
  auto record = test::round_record(round, {0, 1, 2}, {0.9, 0.6, 0.3});
  EXPECT_TRUE(spent.add_round(kSampleRate, kSigma).ok());
  record.privacy = RoundPrivacy{1.0, kSigma, kSampleRate, spent.epsilon(kDelta).value()};
  return record;
}

class PrivacyLedgerTest : public ::testing::Test {
 protected:
  std::unique_ptr<Ledger> open() {
    auto opened = Ledger::open(db_);
    EXPECT_TRUE(opened.ok()) << opened.error().to_string();
    auto led = std::move(opened).value();
    EXPECT_TRUE(led->initialize(test::authority_key()).ok());
    return led;
  }
  Result<std::vector<RoundReceipt>> record(Ledger& led, const JobRecord& job,
                                           const RoundRecord& round) {
    return led.record_round(test::authority_key(), test::researcher_key(), job,
                            test::registrations(4), round);
  }

  test::TempDir dir_{"fl-privacy-ledger"};
  std::filesystem::path db_ = dir_ / "ledger.db";
};

TEST(PrivacyEncoding, DpOpenJobAndRoundResultAreVersionThreeAndRoundTrip) {
  OpenJobBody job{"job-1", "mlp", "fedavg", 1000, PrivacyBudget{3.0, 1e-5}};
  const auto job_tx = make_signed(test::researcher_key(), 1, 5, job);
  const auto job_bytes = encode(job_tx);
  EXPECT_EQ(job_bytes[4], 3);
  auto job_back = decode(job_bytes, job_tx.signature);
  ASSERT_TRUE(job_back.ok()) << job_back.error().to_string();
  EXPECT_EQ(std::get<OpenJobBody>(job_back->body).privacy_budget, job.privacy_budget);
  EXPECT_EQ(encode(*job_back), job_bytes);

  auto round = test::round_record(1, {0, 1}, {0.5, 0.5});
  round.privacy = RoundPrivacy{1.5, 1.1, 0.25, 0.75};
  const auto round_tx = make_signed(test::authority_key(), 1, 5, round);
  const auto round_bytes = encode(round_tx);
  EXPECT_EQ(round_bytes[4], 3);
  auto round_back = decode(round_bytes, round_tx.signature);
  ASSERT_TRUE(round_back.ok()) << round_back.error().to_string();
  const auto& p = std::get<RoundResultBody>(round_back->body).privacy;
  ASSERT_TRUE(p.has_value());
  EXPECT_EQ(p->clip_norm, 1.5);
  EXPECT_EQ(p->noise_multiplier, 1.1);
  EXPECT_EQ(p->sample_rate, 0.25);
  EXPECT_EQ(p->epsilon, 0.75);
  EXPECT_EQ(std::get<RoundResultBody>(round_back->body).scorer, "cosine");
  EXPECT_EQ(encode(*round_back), round_bytes);
  EXPECT_TRUE(signature_valid(*round_back));
}

TEST(PrivacyEncoding, JobsWithoutDpKeepTheirEarlierVersions) {
  const auto job =
      encode(make_signed(test::researcher_key(), 1, 5, OpenJobBody{"j", "mlp", "fedavg", 7}));
  EXPECT_EQ(job[4], 1);
  const auto round =
      encode(make_signed(test::authority_key(), 1, 5, test::round_record(1, {0}, {1.0})));
  EXPECT_EQ(round[4], 2);
}

TEST_F(PrivacyLedgerTest, DpRoundsWithinTheBudgetAreRecordedAndVerify) {
  auto led = open();
  common::RdpComposition spent;
  for (std::uint64_t r = 1; r <= 3; ++r) {
    auto receipts = record(*led, dp_job(10.0), dp_round(r, spent));
    ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  }
  const auto& job = led->state().jobs().at("job-1");
  EXPECT_EQ(job.privacy_spent.rounds(), 3u);
  EXPECT_DOUBLE_EQ(job.epsilon_spent, spent.epsilon(kDelta).value());
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
}

TEST_F(PrivacyLedgerTest, ARoundRecordingAnUnderstatedEpsilonIsRefused) {
  auto led = open();
  common::RdpComposition spent;
  auto round = dp_round(1, spent);
  round.privacy->epsilon *= 0.5;
  auto receipts = record(*led, dp_job(10.0), round);
  ASSERT_FALSE(receipts.ok());
  EXPECT_NE(receipts.error().message.find("re-accounting"), std::string::npos)
      << receipts.error().message;
}

TEST_F(PrivacyLedgerTest, ARoundThatWouldExceedTheBudgetIsRefused) {
  common::RdpComposition plan;  // a budget between what two and three rounds spend
  ASSERT_TRUE(plan.add_round(kSampleRate, kSigma).ok());
  ASSERT_TRUE(plan.add_round(kSampleRate, kSigma).ok());
  const double budget =
      (plan.epsilon(kDelta).value() + plan.epsilon_after(kSampleRate, kSigma, kDelta).value()) / 2;
  auto led = open();
  common::RdpComposition spent;
  ASSERT_TRUE(record(*led, dp_job(budget), dp_round(1, spent)).ok());
  ASSERT_TRUE(record(*led, dp_job(budget), dp_round(2, spent)).ok());
  auto over = record(*led, dp_job(budget), dp_round(3, spent));
  ASSERT_FALSE(over.ok());
  EXPECT_NE(over.error().message.find("over the job's privacy budget"), std::string::npos)
      << over.error().message;
}

TEST_F(PrivacyLedgerTest, ADpJobsRoundWithoutItsParametersIsRefused) {
  auto led = open();
  common::RdpComposition spent;
  ASSERT_TRUE(record(*led, dp_job(10.0), dp_round(1, spent)).ok());
  auto bare = record(*led, dp_job(10.0), test::round_record(2, {0, 1, 2}, {0.9, 0.6, 0.3}));
  ASSERT_FALSE(bare.ok());
  EXPECT_NE(bare.error().message.find("records no DP parameters"), std::string::npos);
}

// The authority itself lies: a well-signed block whose round result understates epsilon,
// written straight into the file past the writer's checks. verify_ledger replays the rules.
TEST_F(PrivacyLedgerTest, VerifyFailsOnASignedRoundWithATamperedEpsilon) {
  common::RdpComposition spent;
  std::uint64_t nonce = 0;
  {
    auto led = open();
    ASSERT_TRUE(record(*led, dp_job(10.0), dp_round(1, spent)).ok());
    nonce = led->next_nonce(test::authority_key().public_key);
  }
  auto lie = dp_round(2, spent);
  lie.privacy->epsilon -= 0.01;
  const auto height = test::append_unchecked(db_, {make_signed(test::authority_key(), nonce, 1, lie)});
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_FALSE(report->ok);
  EXPECT_EQ(report->failure->height, height);
  EXPECT_NE(report->failure->problem.find("records cumulative epsilon"), std::string::npos)
      << report->failure->to_string();
}

}  // namespace
}  // namespace fl::ledger
