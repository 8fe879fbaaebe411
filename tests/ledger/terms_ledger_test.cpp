// Job terms and consent on the ledger: a job opened with terms records them; each round names
// their digest, stays within their rounds and coordinators, and pays only workers whose signed
// consent to them is recorded; a consent to other terms, a second consent and a round under
// other terms are refused when written, and found by verify_ledger when an authority writes
// them anyway.
#include <gtest/gtest.h>

#include "fl/common/job_terms.hpp"
#include "fl/ledger/json.hpp"
#include "fl/ledger/queries.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

common::JobTerms terms_for(const JobRecord& job) {
  auto t = test::job_terms(job.job_id, job.researcher, test::authority_key().public_key);
  t.rounds = 3;
  t.reward_per_round = job.reward_per_round;
  return t;
}

// A registration that consents to `terms` (zero digest: without consent).
RegistrationRecord consenting(const common::KeyPair& worker, const common::Digest& terms) {
  auto r = test::registration(worker);
  r.terms_digest = terms;
  r.consent_signature =
      common::sign(worker.secret_key, common::consent_digest(worker.public_key, "job-1", terms, r.timestamp_ms));
  return r;
}

class TermsLedgerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    led_ = test::make_ledger(db_, 0);
    job_.terms = terms_for(job_);
    digest_ = common::terms_digest(*job_.terms);
  }
  std::vector<RegistrationRecord> consents(int n) const {
    std::vector<RegistrationRecord> out;
    for (int i = 0; i < n; ++i) out.push_back(consenting(test::worker_key(i), digest_));
    return out;
  }
  Result<std::vector<RoundReceipt>> record(std::uint64_t round, const std::vector<RegistrationRecord>& regs,
                                           const std::vector<int>& workers = {0, 1, 2}) {
    return led_->record_round(test::authority_key(), test::researcher_key(), job_, regs,
                              test::round_record(round, workers, std::vector<double>(workers.size(), 0.5)));
  }
  void expect_verify_fails_with(const std::string& problem) {
    led_.reset();
    auto report = verify_ledger(db_);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    ASSERT_FALSE(report->ok);
    EXPECT_NE(report->failure->problem.find(problem), std::string::npos) << report->failure->to_string();
  }

  test::TempDir dir_{"fl-terms-ledger"};
  std::filesystem::path db_ = dir_ / "ledger.db";
  std::unique_ptr<Ledger> led_;
  JobRecord job_ = test::job_record();
  common::Digest digest_{};
};

TEST_F(TermsLedgerTest, TheTermsAndEveryConsentAreOnTheLedgerAndTheRoundNamesThem) {
  ASSERT_TRUE(record(1, consents(3)).ok());
  const auto& job = led_->state().jobs().at("job-1");
  ASSERT_TRUE(job.job.terms.has_value());
  EXPECT_EQ(*job.job.terms, *job_.terms);
  EXPECT_EQ(job.terms_digest, digest_);
  EXPECT_EQ(job.consents.size(), 3u);
  // The next round adds no second consent for the same workers.
  ASSERT_TRUE(record(2, consents(3)).ok());
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  // The round results name the digest; the JSON export shows the terms.
  auto chain = load_chain(db_);
  ASSERT_TRUE(chain.ok()) << chain.error().to_string();
  int consent_txs = 0, named = 0;
  for (const auto& stored : chain->txs) {
    const auto& tx = stored.tx;
    if (tx.type() == TxType::kConsent) ++consent_txs;
    const auto* round = std::get_if<RoundResultBody>(&tx.body);
    if (round && round->terms_digest == digest_) ++named;
    if (tx.type() == TxType::kOpenJob) {
      EXPECT_EQ(tx_json(stored)["body"]["terms_digest"], common::to_hex(digest_));
    }
  }
  EXPECT_EQ(consent_txs, 3);
  EXPECT_EQ(named, 2);
}

TEST_F(TermsLedgerTest, ARoundThatPaysAWorkerWithoutConsentIsRefused) {
  auto regs = consents(3);
  regs[2] = test::registration(test::worker_key(2));  // registered, never consented
  auto receipts = record(1, regs);
  ASSERT_FALSE(receipts.ok());
  EXPECT_NE(receipts.error().message.find("never consented"), std::string::npos) << receipts.error().message;
  EXPECT_TRUE(record(1, regs, {0, 1}).ok());  // without it the round is fine
}

TEST_F(TermsLedgerTest, AConsentToOtherTermsOrAForgedOneIsRefused) {
  auto regs = consents(3);
  regs[1] = consenting(test::worker_key(1), test::digest_of_text("other terms"));
  auto other = record(1, regs);
  ASSERT_FALSE(other.ok());
  EXPECT_NE(other.error().message.find("not the job's"), std::string::npos) << other.error().message;
  regs = consents(3);
  regs[1].consent_signature[3] ^= 1;
  auto forged = record(1, regs);
  ASSERT_FALSE(forged.ok());
  EXPECT_NE(forged.error().message.find("signature"), std::string::npos) << forged.error().message;
}

TEST_F(TermsLedgerTest, TermsCannotChangeDuringTheJobNorRunPastTheirRounds) {
  ASSERT_TRUE(record(1, consents(3)).ok());
  auto changed = job_;
  changed.terms->purpose = "something else";
  auto refused = led_->record_round(test::authority_key(), test::researcher_key(), changed, consents(3),
                                    test::round_record(2, {0, 1}, {0.5, 0.5}));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("other terms"), std::string::npos) << refused.error().message;
  auto past = record(4, consents(3));  // the terms say 3 rounds
  ASSERT_FALSE(past.ok());
  EXPECT_NE(past.error().message.find("outside the 3 rounds"), std::string::npos) << past.error().message;
}

TEST_F(TermsLedgerTest, TermsThatDoNotDescribeTheJobOrDisallowItsCoordinatorAreRefused) {
  auto other_researcher = job_;
  other_researcher.terms->researcher = test::worker_key(9).public_key;
  auto refused = led_->record_round(test::authority_key(), test::researcher_key(), other_researcher, consents(3),
                                    test::round_record(1, {0}, {0.5}));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("name researcher"), std::string::npos) << refused.error().message;
  auto other_coordinator = job_;
  other_coordinator.terms->coordinators = {test::worker_key(8).public_key};
  const std::vector<RegistrationRecord> regs{consenting(test::worker_key(0), common::terms_digest(*other_coordinator.terms))};
  refused = led_->record_round(test::authority_key(), test::researcher_key(), other_coordinator, regs,
                               test::round_record(1, {0}, {0.5}));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("do not allow"), std::string::npos) << refused.error().message;
}

// An authority that lies: a round naming other terms, written past the rules, fails verify.
TEST_F(TermsLedgerTest, VerifyFailsOnARoundWrittenUnderOtherTerms) {
  ASSERT_TRUE(record(1, consents(3)).ok());
  auto round = test::round_record(2, {0, 1}, {0.5, 0.5});
  round.terms_digest = test::digest_of_text("terms nobody agreed to");
  const auto nonce = led_->next_nonce(test::authority_key().public_key);
  led_.reset();
  test::append_unchecked(db_, {make_signed(test::authority_key(), nonce, 5, round)});
  expect_verify_fails_with("not the job's");
}

TEST_F(TermsLedgerTest, VerifyFailsOnASecondConsentWrittenPastTheRules) {
  ASSERT_TRUE(record(1, consents(3)).ok());
  const auto r = consenting(test::worker_key(0), digest_);
  led_.reset();
  test::append_unchecked(db_, {Transaction{r.worker, 0, r.timestamp_ms, ConsentBody{"job-1", digest_},
                                           r.consent_signature}});
  expect_verify_fails_with("already recorded");
}

TEST(TermsEncoding, OpenJobTermsAndRoundDigestRoundTripInVersion4) {
  auto job = test::job_record();
  OpenJobBody open{job.job_id, job.model, job.rule, job.reward_per_round, std::nullopt, terms_for(job)};
  const auto tx = make_signed(test::researcher_key(), 1, 7, open);
  const auto bytes = encode(tx);
  EXPECT_EQ(bytes[4], 4);  // version 4: the terms are an extension
  auto back = decode(bytes, tx.signature);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(std::get<OpenJobBody>(back->body).terms, open.terms);

  const auto consent = Transaction{test::worker_key(1).public_key, 0, 9, ConsentBody{"job-1", test::digest_of_text("t")}, {}};
  auto consent_back = decode(encode(consent), {});
  ASSERT_TRUE(consent_back.ok()) << consent_back.error().to_string();
  EXPECT_EQ(std::get<ConsentBody>(consent_back->body).terms_digest, test::digest_of_text("t"));
  EXPECT_EQ(signing_digest(consent), common::consent_digest(consent.issuer, "job-1", test::digest_of_text("t"), 9));
}

}  // namespace
}  // namespace fl::ledger
