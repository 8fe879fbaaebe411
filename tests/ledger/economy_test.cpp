// The token economy on the ledger: version-4 encodings, escrow-funded jobs (bounty, payouts,
// refund), the tenth paid by a round that does not lower the validation loss, issue by the
// authority only, and slashes that carry equivocation evidence which the rules re-check (on
// write, and again in verify_ledger, `fl-ledger verify`).
#include <gtest/gtest.h>

#include "fl/common/merkle.hpp"
#include "fl/common/wire.hpp"
#include "fl/ledger/block.hpp"
#include "fl/ledger/block_store.hpp"
#include "fl/ledger/economy.hpp"
#include "fl/ledger/queries.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

constexpr std::size_t kHeaderBytes = 4 + 1 + 1 + 32 + 8 + 8;  // magic .. timestamp

common::UpdateClaim signed_claim(const common::KeyPair& worker, std::uint64_t round, const std::string& payload) {
  common::UpdateHeader h;
  h.job_id = "job-1";
  h.round = round;
  h.worker_key = worker.public_key;
  h.payload_digest = test::digest_of_text(payload);
  h.num_samples = 100;
  common::sign_update(h, worker.secret_key);
  return common::update_claim(h);
}

EquivocationEvidence equivocation(const common::KeyPair& worker, std::uint64_t round = 2) {
  return {signed_claim(worker, round, "first"), signed_claim(worker, round, "second")};
}

class EconomyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    led_ = test::make_ledger(db_, 0);
    const auto& researcher = test::researcher_key().public_key;
    ASSERT_TRUE(led_->submit(test::authority_key(), IssueBody{researcher, 10'000}).ok());
  }
  Result<std::vector<RoundReceipt>> record(const RoundRecord& round, std::uint64_t bounty = 2500) {
    auto job = test::job_record();
    job.bounty = bounty;
    return led_->record_round(test::authority_key(), test::researcher_key(), job, test::registrations(4), round);
  }
  std::uint64_t balance(const common::PublicKey& k) const {
    const auto* a = led_->state().find(k);
    return a ? a->balance : 0;
  }
  const JobState& job() const { return led_->state().jobs().at("job-1"); }
  void expect_verifies() {
    auto report = verify_ledger(db_);
    ASSERT_TRUE(report.ok()) << report.error().to_string();
    EXPECT_TRUE(report->ok) << report->failure->to_string();
  }

  test::TempDir dir_{"fl-economy"};
  std::filesystem::path db_ = dir_ / "ledger.db";
  std::unique_ptr<Ledger> led_;
};

TEST(EconomyEncoding, ARoundWithAValidationRecordIsVersionFourWithItsExtensionsInTagOrder) {
  auto round = test::round_record(1, {0, 1}, {0.5, 0.5});
  round.privacy = RoundPrivacy{1.5, 1.1, 0.25, 0.75};
  round.validation = RoundValidation{0.9, 0.7};
  const auto tx = make_signed(test::authority_key(), 1, 5, round);
  const auto bytes = encode(tx);
  ASSERT_GT(bytes.size(), kHeaderBytes + 2);
  EXPECT_EQ(bytes[4], 4);                 // version
  EXPECT_EQ(bytes[kHeaderBytes], 3);      // extensions: scorer, privacy, validation
  EXPECT_EQ(bytes[kHeaderBytes + 1], 1);  // the scorer's tag first
  auto back = decode(bytes, tx.signature);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  const auto& b = std::get<RoundResultBody>(back->body);
  EXPECT_EQ(b.scorer, "cosine");
  ASSERT_TRUE(b.privacy && b.validation);
  EXPECT_EQ(b.privacy->epsilon, 0.75);
  EXPECT_EQ(*b.validation, (RoundValidation{0.9, 0.7}));
  EXPECT_EQ(encode(*back), bytes);
  EXPECT_TRUE(signature_valid(*back));
}

TEST(EconomyEncoding, NewTypesRoundTripAndAnEvidenceSlashIsVersionFour) {
  const auto worker = test::worker_key(0);
  const std::vector<TxBody> bodies{EscrowBody{"job-1", 7}, PayoutBody{"job-1", 3, worker.public_key, 9},
                                   RefundBody{"job-1", 0}, IssueBody{worker.public_key, 11},
                                   SlashBody{worker.public_key, "equivocation", 5, equivocation(worker)}};
  for (const auto& body : bodies) {
    const auto tx = make_signed(test::authority_key(), 1, 5, body);
    const auto bytes = encode(tx);
    auto back = decode(bytes, tx.signature);
    ASSERT_TRUE(back.ok()) << to_string(tx.type()) << ": " << back.error().to_string();
    EXPECT_EQ(back->type(), tx.type());
    EXPECT_EQ(encode(*back), bytes);
    EXPECT_EQ(back->amount(), tx.amount());
    EXPECT_EQ(bytes[4], tx.type() == TxType::kSlash ? 4 : 1) << to_string(tx.type());
  }
  const auto plain = encode(make_signed(test::authority_key(), 1, 5, SlashBody{worker.public_key, "x", 5}));
  EXPECT_EQ(plain[4], 1);  // a slash without evidence keeps its version-1 bytes
}

TEST(EconomyEncoding, MalformedExtensionListsAreRefusedByName) {
  auto round = test::round_record(1, {0}, {0.5});
  round.validation = RoundValidation{0.9, 0.7};
  const auto tx = make_signed(test::authority_key(), 1, 5, round);
  const auto bytes = encode(tx);
  auto expect_refused = [&](std::vector<std::uint8_t> b, const std::string& why) {
    auto back = decode(b, tx.signature);
    ASSERT_FALSE(back.ok()) << why;
    EXPECT_NE(back.error().message.find(why), std::string::npos) << back.error().message;
  };
  auto unknown = bytes;
  unknown[kHeaderBytes + 1] = 9;  // the scorer's tag becomes unknown
  expect_refused(unknown, "unknown extension tag 9");
  auto swapped = bytes;           // scorer (1) then validation (3): make the first a 3 as well
  swapped[kHeaderBytes + 1] = 3;  // the scorer's 6 bytes now read as a validation record
  expect_refused(swapped, "extension 3 truncated");
  auto none = bytes;  // no extension at all under version 4 is not canonical
  none[kHeaderBytes] = 0;
  expect_refused(none, "transaction body");
}

TEST(EconomyEncoding, ScreeningReasonsRideAlongOnlyWhenThereIsOne) {
  auto round = test::round_record(1, {0, 1}, {0.0, 0.5});
  round.score_reasons = {"replays the global change of round 0", ""};
  const auto tx = make_signed(test::authority_key(), 1, 5, round);
  const auto bytes = encode(tx);
  EXPECT_EQ(bytes[4], 4);
  auto back = decode(bytes, tx.signature);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(std::get<RoundResultBody>(back->body).score_reasons, round.score_reasons);
  round.score_reasons = {"", ""};  // none: the round keeps its version-2 bytes
  EXPECT_EQ(encode(make_signed(test::authority_key(), 1, 5, round))[4], 2);
}

TEST_F(EconomyTest, AScreenedUpdateWithAPositiveScoreIsRefused) {
  auto round = test::round_record(1, {0, 1}, {0.4, 0.5});
  round.score_reasons = {"a zero update", ""};
  auto refused = record(round, 0);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("screened out (a zero update) but has a positive score"), std::string::npos)
      << refused.error().message;
  round.accepted[0].score = 0;
  auto recorded = record(round, 0);
  ASSERT_TRUE(recorded.ok()) << recorded.error().to_string();
  EXPECT_EQ((*recorded)[0].reward, 0u);
  expect_verifies();
}

TEST_F(EconomyTest, ABountyIsEscrowedWhenTheJobOpensAndRoundsArePaidOutOfIt) {
  auto receipts = record(test::round_record(1, {0, 1, 2}, {0.9, 0.6, 0.3}));
  ASSERT_TRUE(receipts.ok()) << receipts.error().to_string();
  std::uint64_t paid = 0;
  for (const auto& r : *receipts) paid += r.reward;
  EXPECT_EQ(paid, 1000u);
  EXPECT_EQ(balance(test::researcher_key().public_key), 10'000u - 2500u);
  EXPECT_TRUE(job().escrow_funded);
  EXPECT_EQ(job().escrow, 1500u);
  EXPECT_EQ(led_->state().minted(), 10'000u);  // payouts move tokens, they mint none
  EXPECT_EQ(led_->state().issued(), 10'000u);
  expect_verifies();
}

TEST_F(EconomyTest, AnEscrowRunningOutPaysWhatIsLeftThenNothing) {
  ASSERT_TRUE(record(test::round_record(1, {0, 1}, {0.5, 0.5}), 1500).ok());
  auto second = record(test::round_record(2, {0, 1}, {0.5, 0.5}), 1500);
  ASSERT_TRUE(second.ok()) << second.error().to_string();
  EXPECT_EQ((*second)[0].reward + (*second)[1].reward, 500u);
  auto third = record(test::round_record(3, {0, 1}, {0.5, 0.5}), 1500);
  ASSERT_TRUE(third.ok()) << third.error().to_string();
  EXPECT_EQ((*third)[0].reward + (*third)[1].reward, 0u);
  EXPECT_EQ(job().escrow, 0u);
  expect_verifies();
}

TEST_F(EconomyTest, ARefundReturnsTheRestAndClosesTheJob) {
  ASSERT_TRUE(record(test::round_record(1, {0, 1}, {0.5, 0.5})).ok());
  auto refund = refund_escrow(*led_, test::authority_key(), "job-1");
  ASSERT_TRUE(refund.ok()) << refund.error().to_string();
  ASSERT_TRUE(refund->has_value());
  EXPECT_EQ(balance(test::researcher_key().public_key), 10'000u - 1000u);
  EXPECT_TRUE(job().closed);
  auto after = record(test::round_record(2, {0, 1}, {0.5, 0.5}));
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.error().message.find("closed by its refund"), std::string::npos) << after.error().message;
  auto again = refund_escrow(*led_, test::authority_key(), "job-1");
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(again->has_value());
  expect_verifies();
}

TEST_F(EconomyTest, APartialRefundAndAStrangersEscrowAreRefused) {
  ASSERT_TRUE(record(test::round_record(1, {0, 1}, {0.5, 0.5})).ok());
  auto partial = led_->submit(test::researcher_key(), RefundBody{"job-1", 10});
  ASSERT_FALSE(partial.ok());
  EXPECT_NE(partial.error().message.find("returns all of it"), std::string::npos) << partial.error().message;
  ASSERT_TRUE(led_->submit(test::authority_key(), IssueBody{test::worker_key(0).public_key, 50}).ok());
  auto stranger = led_->submit(test::worker_key(0), EscrowBody{"job-1", 50});
  ASSERT_FALSE(stranger.ok());
  EXPECT_NE(stranger.error().message.find("not by its researcher"), std::string::npos) << stranger.error().message;
  auto too_much = led_->submit(test::researcher_key(), EscrowBody{"job-1", 1'000'000});
  ASSERT_FALSE(too_much.ok());
  EXPECT_NE(too_much.error().message.find("exceeds the balance"), std::string::npos) << too_much.error().message;
}

TEST_F(EconomyTest, OnlyTheAuthorityIssues) {
  auto issued = led_->submit(test::worker_key(0), IssueBody{test::worker_key(0).public_key, 5});
  ASSERT_FALSE(issued.ok());
  EXPECT_NE(issued.error().message.find("not a member of the consortium"), std::string::npos) << issued.error().message;
}

TEST_F(EconomyTest, ARoundThatDoesNotLowerTheValidationLossPaysATenth) {
  auto better = test::round_record(1, {0, 1}, {0.5, 0.5});
  better.validation = RoundValidation{1.0, 0.8};
  auto full = record(better, 0);
  ASSERT_TRUE(full.ok()) << full.error().to_string();
  EXPECT_EQ((*full)[0].reward + (*full)[1].reward, 1000u);
  auto worse = test::round_record(2, {0, 1}, {0.5, 0.5});
  worse.validation = RoundValidation{0.8, 0.8};
  auto tenth = record(worse, 0);
  ASSERT_TRUE(tenth.ok()) << tenth.error().to_string();
  EXPECT_EQ((*tenth)[0].reward + (*tenth)[1].reward, 100u);
  auto rounds = rounds_of(load_chain(db_).value(), "job-1");
  ASSERT_EQ(rounds.size(), 2u);
  EXPECT_EQ(rounds[1].minted, 100u);
  expect_verifies();
}

TEST_F(EconomyTest, CheckBountyNamesTheShortfallAndHowToFundIt) {
  const auto& researcher = test::researcher_key().public_key;
  EXPECT_TRUE(check_bounty(led_->state(), "job-2", researcher, 10'000).ok());
  auto short_of = check_bounty(led_->state(), "job-2", researcher, 10'001);
  ASSERT_FALSE(short_of.ok());
  EXPECT_NE(short_of.error().message.find("fl-ledger issue"), std::string::npos) << short_of.error().message;
}

class SlashTest : public EconomyTest {
 protected:
  void SetUp() override {
    EconomyTest::SetUp();
    ASSERT_TRUE(led_->submit(test::authority_key(), IssueBody{worker_.public_key, 400}).ok());
    ASSERT_TRUE(led_->submit(worker_, StakeBody{400}).ok());
  }
  common::KeyPair worker_ = test::worker_key(1);
};

TEST_F(SlashTest, EquivocationEvidenceSlashesTheStakeAndVerifies) {
  auto slashed = slash_equivocation(*led_, test::authority_key(), equivocation(worker_), 0.5);
  ASSERT_TRUE(slashed.ok()) << slashed.error().to_string();
  EXPECT_EQ(led_->state().find(worker_.public_key)->stake, 200u);
  EXPECT_EQ(led_->state().slashed(), 200u);
  expect_verifies();
}

TEST_F(SlashTest, OneEquivocationIsSlashedOnlyOnceEvenWithOtherEvidenceForIt) {
  ASSERT_TRUE(slash_equivocation(*led_, test::authority_key(), equivocation(worker_), 0.25).ok());
  // The same offence again, and with a third signed update for the same round.
  auto again = slash_equivocation(*led_, test::authority_key(), equivocation(worker_), 0.25);
  ASSERT_FALSE(again.ok());
  EXPECT_NE(again.error().message.find("already slashed"), std::string::npos) << again.error().message;
  const EquivocationEvidence third{signed_claim(worker_, 2, "first"), signed_claim(worker_, 2, "third")};
  EXPECT_FALSE(slash_equivocation(*led_, test::authority_key(), third, 0.25).ok());
  // Another round is another offence.
  EXPECT_TRUE(slash_equivocation(*led_, test::authority_key(), equivocation(worker_, 3), 0.25).ok());
  EXPECT_EQ(led_->state().find(worker_.public_key)->stake, 225u);
  expect_verifies();
}

TEST_F(SlashTest, EvidenceThatProvesNothingIsRefused) {
  auto forged = equivocation(worker_);
  forged.second.signature[0] ^= 1;
  auto same = equivocation(worker_);
  same.second = same.first;
  auto other = equivocation(worker_);
  other.second = signed_claim(worker_, 3, "second");
  const std::vector<std::pair<EquivocationEvidence, std::string>> cases{
      {forged, "second update signature does not verify"},
      {same, "the same update"},
      {other, "not one round"},
      {equivocation(test::worker_key(2)), "holds a stake of 0"}};
  for (const auto& [evidence, why] : cases) {
    auto slashed = slash_equivocation(*led_, test::authority_key(), evidence, 0.5);
    ASSERT_FALSE(slashed.ok()) << why;
    EXPECT_NE(slashed.error().message.find(why), std::string::npos) << slashed.error().message;
  }
  // The rules, not only the helper: a slash naming another account than the evidence's signer.
  auto misnamed = led_->submit(test::authority_key(), SlashBody{worker_.public_key, "x", 10,
                                                                equivocation(test::worker_key(2))});
  ASSERT_FALSE(misnamed.ok());
  EXPECT_NE(misnamed.error().message.find("not by the slashed"), std::string::npos) << misnamed.error().message;
  EXPECT_EQ(led_->state().find(worker_.public_key)->stake, 400u);
}

// The authority itself lies: a well-signed slash whose evidence was forged, written straight
// into the file past the writer's checks. verify_ledger replays the rules and names it.
TEST_F(SlashTest, VerifyFailsOnAWrittenSlashWithForgedEvidence) {
  const auto nonce = led_->next_nonce(test::authority_key().public_key);
  led_.reset();
  auto evidence = equivocation(worker_);
  evidence.first.signature[5] ^= 1;
  const auto height = test::append_unchecked(
      db_, {make_signed(test::authority_key(), nonce, 1, SlashBody{worker_.public_key, "x", 100, evidence})});
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok()) << report.error().to_string();
  ASSERT_FALSE(report->ok);
  EXPECT_EQ(report->failure->height, height);
  EXPECT_NE(report->failure->problem.find("first update signature does not verify"), std::string::npos)
      << report->failure->to_string();
}

}  // namespace
}  // namespace fl::ledger
