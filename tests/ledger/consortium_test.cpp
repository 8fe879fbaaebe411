// The consortium on the ledger: a genesis block that names members, witnesses, a quorum and
// minters; blocks proposed by members only (others: their own transfers and stakes); tokens
// created by minters only; membership changed by a quorum of approvals, each checked again by
// verify; and a consortium file read with errors that name the field.
#include <gtest/gtest.h>

#include <fstream>

#include "fl/ledger/consortium.hpp"
#include "fl/ledger/queries.hpp"
#include "ledger_fixture.hpp"

namespace fl::ledger {
namespace {

common::KeyPair member(int i) { return common::key_pair_from_label("member-" + std::to_string(i)); }

Consortium three_members() {
  Consortium c;
  c.quorum = 2;
  for (int i = 0; i < 3; ++i) c.members.push_back(member(i).public_key);
  c.witnesses = c.members;
  c.minters = {member(0).public_key};
  return c;
}

class ConsortiumTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto opened = Ledger::open(db_);
    ASSERT_TRUE(opened.ok()) << opened.error().to_string();
    led_ = std::move(opened).value();
    ASSERT_TRUE(led_->initialize(member(1), three_members()).ok());
  }
  Transaction change_tx(const common::KeyPair& issuer, const Consortium& next, const std::vector<int>& approvers) {
    ConsortiumBody body{next, {}};
    for (int i : approvers) body.approvals.push_back(approve_consortium_change(led_->state().consortium(), next, member(i)));
    return make_signed(issuer, led_->next_nonce(issuer.public_key), 1, body);
  }
  Consortium with_fourth() const {
    auto next = led_->state().consortium();
    next.epoch += 1;
    next.members.push_back(member(3).public_key);
    next.minters.push_back(member(3).public_key);
    return next;
  }
  test::TempDir dir_;
  std::filesystem::path db_ = dir_.path() / "ledger.db";
  std::unique_ptr<Ledger> led_;
};

TEST_F(ConsortiumTest, TheGenesisNamesItAndVerifyReportsIt) {
  EXPECT_EQ(led_->state().consortium(), three_members());
  EXPECT_EQ(led_->state().founding_consortium(), three_members());
  EXPECT_EQ(led_->authority(), member(1).public_key);
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->consortium, three_members());
  // Another member joins the same ledger; a stranger, or another consortium, is refused.
  EXPECT_TRUE(led_->initialize(member(2), three_members()).ok());
  EXPECT_TRUE(led_->initialize(member(0)).ok());
  auto stranger = led_->initialize(member(3));
  ASSERT_FALSE(stranger.ok());
  EXPECT_NE(stranger.error().message.find("not a member"), std::string::npos) << stranger.error().message;
  auto other = three_members();
  other.quorum = 3;
  auto refused = led_->initialize(member(1), other);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("founded by another consortium"), std::string::npos);
}

TEST_F(ConsortiumTest, EveryMemberRecordsRoundsButOnlyMintersCreateTokens) {
  const auto regs = test::registrations(3);
  auto by_minter = led_->record_round(member(0), test::researcher_key(), test::job_record(), regs,
                                      test::round_record(1, {0, 1}, {0.9, 0.5}));
  ASSERT_TRUE(by_minter.ok()) << by_minter.error().to_string();
  // Member 2 is no minter: its round mints nothing, so the block is refused...
  auto by_member = led_->record_round(member(2), test::researcher_key(), test::job_record(), regs,
                                      test::round_record(2, {0, 1}, {0.9, 0.5}));
  ASSERT_FALSE(by_member.ok());
  EXPECT_NE(by_member.error().message.find("not a minter"), std::string::npos) << by_member.error().message;
  // ...while a round that pays nothing (reward 0) is its to record.
  auto unpaid = led_->record_round(member(2), test::researcher_key(), test::job_record("job-2", 0), regs,
                                   test::round_record(1, {0, 1}, {0.9, 0.5}, {}, "job-2"));
  EXPECT_TRUE(unpaid.ok()) << unpaid.error().to_string();
  auto issue = led_->submit(member(2), IssueBody{member(2).public_key, 5});
  ASSERT_FALSE(issue.ok());
  EXPECT_NE(issue.error().message.find("not a minter"), std::string::npos);
  EXPECT_TRUE(led_->submit(member(0), IssueBody{member(2).public_key, 5}).ok());
  auto stranger = led_->record_round(member(3), test::researcher_key(), test::job_record(), regs,
                                     test::round_record(2, {0, 1}, {0.9, 0.5}));
  ASSERT_FALSE(stranger.ok());
  EXPECT_NE(stranger.error().message.find("not a member"), std::string::npos);
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
}

TEST_F(ConsortiumTest, AChangeNeedsAQuorumOfDistinctValidApprovalsForTheNextEpoch) {
  const auto next = with_fourth();
  auto one = led_->append_block(member(0), {change_tx(member(0), next, {0})});
  ASSERT_FALSE(one.ok());
  EXPECT_NE(one.error().message.find("the quorum is 2"), std::string::npos) << one.error().message;
  auto twice = led_->append_block(member(0), {change_tx(member(0), next, {0, 0})});
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("approved twice"), std::string::npos) << twice.error().message;
  auto outsider = led_->append_block(member(0), {change_tx(member(0), next, {0, 3})});
  ASSERT_FALSE(outsider.ok());
  EXPECT_NE(outsider.error().message.find("which is not a member"), std::string::npos);
  // An approval of another proposal does not carry over.
  auto tx = change_tx(member(0), next, {0, 1});
  std::get<ConsortiumBody>(tx.body).consortium.quorum = 1;
  sign_transaction(tx, member(0));
  auto altered = led_->append_block(member(0), {tx});
  ASSERT_FALSE(altered.ok());
  EXPECT_NE(altered.error().message.find("does not verify"), std::string::npos) << altered.error().message;
  auto skipped = next;
  skipped.epoch = 5;
  auto wrong_epoch = led_->append_block(member(0), {change_tx(member(0), skipped, {0, 1})});
  ASSERT_FALSE(wrong_epoch.ok());
  EXPECT_NE(wrong_epoch.error().message.find("not the next epoch 1"), std::string::npos);
  // A stranger cannot even propose the block.
  auto proposed = led_->append_block(member(3), {change_tx(member(3), next, {0, 1})});
  ASSERT_FALSE(proposed.ok());
  EXPECT_NE(proposed.error().message.find("not a member of the consortium"), std::string::npos);

  auto changed = led_->append_block(member(2), {change_tx(member(2), next, {0, 1})});
  ASSERT_TRUE(changed.ok()) << changed.error().to_string();
  EXPECT_EQ(led_->state().consortium(), next);
  EXPECT_EQ(led_->state().founding_consortium(), three_members());
  // The new member now mints; the same approvals cannot be replayed into another change.
  EXPECT_TRUE(led_->submit(member(3), IssueBody{member(3).public_key, 7}).ok());
  auto replayed = led_->append_block(member(2), {change_tx(member(2), next, {})});
  EXPECT_FALSE(replayed.ok());
  auto reopened = Ledger::open(db_);
  ASSERT_TRUE(reopened.ok()) << reopened.error().to_string();
  EXPECT_EQ((*reopened)->state().consortium(), next);
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok) << report->failure->to_string();
  EXPECT_EQ(report->consortium, next);
  EXPECT_EQ(report->founding_consortium, three_members());
}

TEST_F(ConsortiumTest, AMemberRemovedByAChangeCanNoLongerProposeBlocks) {
  auto next = led_->state().consortium();
  next.epoch = 1;
  next.members = {member(0).public_key, member(1).public_key};
  next.witnesses = next.members;
  ASSERT_TRUE(led_->append_block(member(0), {change_tx(member(0), next, {0, 2})}).ok());
  auto removed = led_->submit(member(2), SlashBody{member(0).public_key, "x", 1});
  ASSERT_FALSE(removed.ok());
  EXPECT_NE(removed.error().message.find("not a member of the consortium"), std::string::npos);
}

TEST_F(ConsortiumTest, AForgedApprovalWrittenPastTheWriterFailsVerifyAtItsBlock) {
  auto tx = change_tx(member(0), with_fourth(), {0, 1});
  std::get<ConsortiumBody>(tx.body).approvals[1].signature[5] ^= 1;
  sign_transaction(tx, member(0));
  const auto height = test::append_unchecked(db_, {tx}, member(0));
  auto report = verify_ledger(db_);
  ASSERT_TRUE(report.ok());
  ASSERT_FALSE(report->ok);
  EXPECT_EQ(report->failure->height, height);
  EXPECT_NE(report->failure->problem.find("does not verify"), std::string::npos) << report->failure->problem;
}

TEST(ConsortiumGenesis, HoldsOneConsortiumTransactionByItsProposerAndNothingElse) {
  test::TempDir dir;
  auto led = Ledger::open(dir.path() / "l.db").value();
  auto c = three_members();
  // The proposer is not among the members it names.
  auto not_member = led->initialize(member(3), c);
  ASSERT_FALSE(not_member.ok());
  EXPECT_NE(not_member.error().message.find("name it a member"), std::string::npos) << not_member.error().message;
  c.quorum = 4;
  auto quorum = led->initialize(member(0), c);
  ASSERT_FALSE(quorum.ok());
  EXPECT_NE(quorum.error().message.find("no change could ever be approved"), std::string::npos);
  c = three_members();
  c.members.push_back(c.members[0]);
  auto twice = led->initialize(member(0), c);
  ASSERT_FALSE(twice.ok());
  EXPECT_NE(twice.error().message.find("twice"), std::string::npos);
  EXPECT_FALSE(led->initialized());
}

TEST(ConsortiumTransaction, EncodesCanonicallyAndRoundTrips) {
  ConsortiumBody body{three_members(), {}};
  body.consortium.epoch = 3;
  body.approvals.push_back(approve_consortium_change(three_members(), body.consortium, member(0)));
  const auto tx = make_signed(member(0), 4, 99, body);
  const auto bytes = encode(tx);
  auto back = decode(bytes, tx.signature);
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(std::get<ConsortiumBody>(back->body).consortium, body.consortium);
  EXPECT_EQ(std::get<ConsortiumBody>(back->body).approvals, body.approvals);
  EXPECT_TRUE(signature_valid(*back));
  auto cut = bytes;
  cut.pop_back();
  EXPECT_FALSE(decode(cut, tx.signature).ok());
  auto named = accounts_named(tx);
  EXPECT_EQ(named.size(), 3u);  // member 0 (the issuer) once, then members 1 and 2
}

TEST(ConsortiumFile, ReadsKeysFromFilesOrHexAndNamesTheBadEntry) {
  test::TempDir dir;
  const auto key = dir.path() / "m1.pub";
  ASSERT_TRUE(common::save_public_key_file(key, member(1).public_key).ok());
  {
    std::ofstream out(dir.path() / "c.toml");
    out << "members = [\"" << common::to_hex(member(0).public_key) << "\", \"m1.pub\"]\n"
        << "witnesses = [\"m1.pub\"]\nquorum = 1\nminters = [\"m1.pub\"]\n";
  }
  auto c = load_consortium_file(dir.path() / "c.toml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->members, (std::vector<common::PublicKey>{member(0).public_key, member(1).public_key}));
  EXPECT_EQ(c->quorum, 1u);
  EXPECT_TRUE(c->is_minter(member(1).public_key));
  {
    std::ofstream out(dir.path() / "bad.toml");
    out << "members = [\"m1.pub\", \"missing.pub\"]\n";
  }
  auto bad = load_consortium_file(dir.path() / "bad.toml");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("members[1]"), std::string::npos) << bad.error().message;
  {
    std::ofstream out(dir.path() / "quorum.toml");
    out << "members = [\"m1.pub\"]\nwitnesses = []\nquorum = 2\n";
  }
  auto quorum = load_consortium_file(dir.path() / "quorum.toml");
  ASSERT_FALSE(quorum.ok());
  EXPECT_NE(quorum.error().message.find("quorum 2 is more than the 1 members"), std::string::npos);
  {
    std::ofstream out(dir.path() / "typo.toml");
    out << "members = [\"m1.pub\"]\nqourum = 1\n";
  }
  auto typo = load_consortium_file(dir.path() / "typo.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.error().message.find("qourum"), std::string::npos) << typo.error().message;
}

TEST(ConsortiumChangeFile, RoundTripsAndRefusesAnInvalidProposal) {
  ConsortiumChange change{consortium_digest(three_members()), three_members(), {}};
  change.next.epoch = 1;
  change.approvals.push_back(approve_consortium_change(three_members(), change.next, member(2)));
  auto back = parse_consortium_change(consortium_change_json(change));
  ASSERT_TRUE(back.ok()) << back.error().to_string();
  EXPECT_EQ(back->current, change.current);
  EXPECT_EQ(back->next, change.next);
  EXPECT_EQ(back->approvals, change.approvals);
  change.next.quorum = 0;
  auto bad = parse_consortium_change(consortium_change_json(change));
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.error().message.find("quorum is 0"), std::string::npos);
  EXPECT_FALSE(parse_consortium_change("{\"format\": 3}").ok());
  EXPECT_FALSE(parse_consortium_change("not json").ok());
}

}  // namespace
}  // namespace fl::ledger
